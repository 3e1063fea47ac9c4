//! The command line: clap's builder API over the generated table, and the parameters of an
//! invocation as wire pairs.
//!
//! Every parameter is a flag named as on the wire (`--SmartAGId`). A repeat list of values is
//! a repeated flag (`--InstanceId a --InstanceId b`) or numbered from 1 as the aliyun CLI takes
//! it (`--InstanceId.1 a --InstanceId.2 b`); a repeat list of structures is numbered
//! (`--Tag.1.Key k --Tag.1.Value v`). Numbered flags cannot be declared to clap in advance, so
//! they are taken out of the arguments first ([`take_numbered`]) and checked here: from 1, no
//! gap, none twice, known fields only. Values are kept as text: the generated model's reader
//! decides what they mean, with the spec's error codes.

use std::collections::BTreeMap;
use std::ffi::OsString;

use alibaba_rpc_runtime::params::Params;
use alibaba_rpc_runtime::secret::Secret;
use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Command};
use clap_complete::Shell;

use crate::settings::{ENV_REGION, Settings};
use crate::spec::{OperationSpec, ParamSpec, Product, Repeat};

/// The subcommand that prints shell completions.
pub const COMPLETION: &str = "completion";

/// The global flags that take a value (their value is never an operation name).
const GLOBAL_VALUES: &[&str] = &["profile", "region", "endpoint", "access-key-id", "access-key-secret", "sts-token"];

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Print this completion script.
    Completion(String),
    /// Call an operation.
    Call {
        /// The operation.
        op: &'static OperationSpec,
        /// Its parameters, as wire pairs in spec order (repeat lists flattened `Name.N`).
        params: Params,
        /// The global flags.
        settings: Settings,
    },
}

/// Parses `argv` (the program name first).
///
/// # Errors
/// clap's error: a usage error (exit code 2), or the help or version text (exit code 0).
pub fn parse(product: &'static Product, argv: Vec<OsString>) -> Result<Parsed, clap::Error> {
    let mut cmd = command(product);
    let (argv, numbered) = take_numbered(product, &mut cmd, argv)?;
    let matches = cmd.try_get_matches_from_mut(argv)?;
    let Some((name, sub)) = matches.subcommand() else {
        return Err(cmd.error(ErrorKind::MissingSubcommand, "name an operation"));
    };
    if name == COMPLETION {
        let shell = sub.get_one::<Shell>("shell").copied().unwrap_or(Shell::Bash);
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd, product.bin, &mut out);
        return Ok(Parsed::Completion(String::from_utf8_lossy(&out).into_owned()));
    }
    let Some(op) = product.operation(name) else {
        return Err(cmd.error(ErrorKind::InvalidSubcommand, format!("unknown operation {name}")));
    };
    let params = collect(product, op, sub, numbered).map_err(|msg| {
        let mut sub_cmd = cmd.find_subcommand_mut(name).cloned().unwrap_or_else(|| Command::new(op.action));
        sub_cmd.error(ErrorKind::ValueValidation, msg)
    })?;
    Ok(Parsed::Call { op, params, settings: settings(sub) })
}

/// The whole clap command of `product`: global flags, one subcommand per operation, and
/// `completion`.
pub fn command(product: &Product) -> Command {
    let mut cmd = Command::new(product.bin)
        .version(product.version)
        .about(format!("{} API {} on the command line.", product.service.product, product.service.version))
        .long_about(format!(
            "{} API {} on the command line.\n\n{}\n\nEvery operation is a subcommand; every parameter is a flag named as on the wire. \
             The answer is printed as JSON. Exit codes: 0 success, 1 configuration, 2 usage, 3 validation (nothing sent), \
             4 API error, 5 no answer (transport), 6 unexpected answer.",
            product.service.product, product.service.version, product.about
        ))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .args(global_args())
        .subcommand(
            Command::new(COMPLETION).about("Prints a shell completion script (bash, zsh, fish, elvish, powershell)").arg(
                Arg::new("shell").required(true).value_parser(clap::value_parser!(Shell)).help("The shell"),
            ),
        );
    for op in product.operations {
        cmd = cmd.subcommand(operation(product, op));
    }
    cmd
}

fn global_args() -> Vec<Arg> {
    let value = |id: &'static str, name: &'static str, help: String| {
        Arg::new(id).long(id).value_name(name).global(true).help(help).help_heading("Global flags")
    };
    vec![
        value("region", "REGION", format!("The region to call, e.g. cn-shanghai (else {ENV_REGION}, else --RegionId)")),
        value("endpoint", "URL", "An explicit endpoint, e.g. http://127.0.0.1:8080 (https:// without a scheme)".into()),
        value(
            "access-key-id",
            "ID",
            "AccessKey ID (with --access-key-secret; else ALIBABA_CLOUD_ACCESS_KEY_ID)".into(),
        ),
        value(
            "access-key-secret",
            "SECRET",
            "AccessKey secret (else ALIBABA_CLOUD_ACCESS_KEY_SECRET, which keeps it out of the shell history)".into(),
        ),
        value("sts-token", "TOKEN", "Security token of temporary (STS) credentials".into()),
        value("profile", "NAME", "A profile of the aliyun CLI configuration (needs the credential chain)".into()),
        Arg::new("compact")
            .long("compact")
            .global(true)
            .action(ArgAction::SetTrue)
            .help("Print the answer as one line of JSON")
            .help_heading("Global flags"),
    ]
}

fn operation(product: &Product, op: &OperationSpec) -> Command {
    let mut long = op.summary.to_owned();
    if !op.description.is_empty() {
        long.push_str("\n\n");
        long.push_str(op.description);
    }
    if !op.rules.is_empty() {
        long.push_str("\n\nRules:");
        for rule in op.rules {
            long.push_str("\n  - ");
            long.push_str(rule);
        }
    }
    let mut cmd = Command::new(op.action).about(op.summary).long_about(long);
    let mut structs = String::new();
    for p in product.params(op) {
        match p.repeat {
            Repeat::Structs(fields) => {
                let flags: Vec<String> = fields.iter().map(|f| format!("--{}.N.{f}", p.wire)).collect();
                structs.push_str(&format!("\n  {}\n      {}", flags.join(" "), long_help(p).replace('\n', "\n      ")));
            }
            _ => cmd = cmd.arg(param_arg(p)),
        }
    }
    if !structs.is_empty() {
        let text = format!("Repeat lists of structures (numbered from 1, as the aliyun CLI takes them):{structs}");
        cmd = cmd.after_help(text.clone()).after_long_help(text);
    }
    if op.paging.is_some() {
        cmd = cmd.arg(
            Arg::new("all-pages").long("all-pages").action(ArgAction::SetTrue).help(
                "Fetch every page and print the merged list (as the aliyun CLI's --pager): the list field alone, with every item",
            ),
        );
    }
    cmd
}

fn param_arg(p: &'static ParamSpec) -> Arg {
    let mut short = p.about.to_owned();
    if p.required {
        short.push_str(" [required]");
    }
    let arg = Arg::new(p.wire)
        .long(p.wire)
        .value_name(p.ty)
        .help(short)
        .long_help(long_help(p))
        .allow_hyphen_values(true)
        .help_heading("Parameters");
    match p.repeat {
        Repeat::Values => arg.action(ArgAction::Append),
        _ => arg.action(ArgAction::Set),
    }
}

/// Everything the spec says of a parameter: description, type, required, values, default,
/// constraints, and how a list is written.
fn long_help(p: &ParamSpec) -> String {
    let mut out = p.about.to_owned();
    out.push_str(&format!("\nType: {}.", p.ty));
    out.push_str(if p.required { " Required." } else { " Optional." });
    if let Some(default) = p.default {
        out.push_str(&format!(" The server assumes {default} when it is not given."));
    }
    if !p.values.is_empty() {
        out.push_str(&format!("\nValues: {}.", p.values.join(", ")));
    }
    for c in p.constraints {
        out.push_str(&format!("\nConstraint: {c}."));
    }
    match p.repeat {
        Repeat::Values => {
            out.push_str(&format!("\nA repeat list: --{w} a --{w} b, or numbered --{w}.1 a --{w}.2 b.", w = p.wire))
        }
        Repeat::Structs(_) => {}
        Repeat::One => {}
    }
    if p.secret {
        out.push_str("\nA secret: it is never printed.");
    }
    out
}

/// A numbered flag taken out of the arguments: `--InstanceId.2 b`, `--Tag.1.Key k`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbered {
    /// The parameter's wire name (`Tag`).
    pub param: &'static str,
    /// The item's number, from 1.
    pub index: usize,
    /// The field of a structure (`Key`), in the order the spec lists the fields.
    pub field: Option<Field>,
    /// The value.
    pub value: String,
}

/// Takes the numbered flags of the operation's repeat lists out of `argv` (those after the
/// operation name), leaving the rest for clap.
///
/// # Errors
/// A usage error for a malformed number or an unknown field, or a flag without its value.
pub fn take_numbered(
    product: &Product,
    cmd: &mut Command,
    argv: Vec<OsString>,
) -> Result<(Vec<OsString>, Vec<Numbered>), clap::Error> {
    let mut out = Vec::with_capacity(argv.len());
    let mut numbered = Vec::new();
    let mut op: Option<&OperationSpec> = None;
    let mut skip_value = false;
    let mut iter = argv.into_iter().enumerate();
    while let Some((i, arg)) = iter.next() {
        let text = arg.to_str().map(str::to_owned);
        let Some(text) = text.filter(|_| i > 0) else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            out.push(arg);
            out.extend(iter.map(|(_, a)| a));
            break;
        }
        let Some(op) = op else {
            // Before the operation name: global flags, and the name itself.
            if skip_value {
                skip_value = false;
            } else if let Some(flag) = text.strip_prefix("--") {
                skip_value = GLOBAL_VALUES.contains(&flag);
            } else if !text.starts_with('-') {
                op = product.operation(&text);
            }
            out.push(arg);
            continue;
        };
        let Some((name, inline)) = text.strip_prefix("--").map(|f| match f.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (f.to_owned(), None),
        }) else {
            out.push(arg);
            continue;
        };
        let Some((base, rest)) = name.split_once('.') else {
            out.push(arg);
            continue;
        };
        let Some(param) = product.param(op, base).filter(|p| p.repeat != Repeat::One) else {
            out.push(arg);
            continue;
        };
        let (index, field) = numbering(param, rest).map_err(|msg| cmd.error(ErrorKind::UnknownArgument, msg))?;
        let value = match inline {
            Some(v) => v,
            None => match iter.next().map(|(_, a)| a.into_string()) {
                Some(Ok(v)) => v,
                Some(Err(_)) => {
                    return Err(cmd.error(ErrorKind::InvalidUtf8, format!("the value of --{name} is not valid UTF-8")));
                }
                None => {
                    return Err(cmd.error(ErrorKind::InvalidValue, format!("--{name} needs a value")));
                }
            },
        };
        numbered.push(Numbered { param: param.wire, index, field, value });
    }
    Ok((out, numbered))
}

/// A field of a structure: its position in the spec and its wire name.
type Field = (usize, &'static str);

/// The number (and field) of `--<param>.<rest>`.
fn numbering(param: &ParamSpec, rest: &str) -> Result<(usize, Option<Field>), String> {
    let (number, field) = match param.repeat {
        Repeat::Structs(_) => match rest.split_once('.') {
            Some((n, f)) => (n, Some(f)),
            None => (rest, None),
        },
        _ => (rest, None),
    };
    let index = number.parse::<usize>().ok().filter(|n| *n >= 1 && !number.starts_with('0'));
    match (param.repeat, index, field) {
        (Repeat::Values, Some(index), None) => Ok((index, None)),
        (Repeat::Values, _, _) => {
            Err(format!("--{}.{rest}: number the items of {} from 1: --{0}.1, --{0}.2, …", param.wire, param.wire))
        }
        (Repeat::Structs(fields), Some(index), Some(field)) => match fields.iter().position(|f| *f == field) {
            Some(pos) => Ok((index, Some((pos, fields[pos])))),
            None => Err(format!(
                "--{}.{rest}: {} has no field {field}; its fields are {}",
                param.wire,
                param.wire,
                fields.join(", ")
            )),
        },
        (Repeat::Structs(fields), _, _) => Err(format!(
            "--{}.{rest}: write a structure's field as --{}.N.Field, numbered from 1 (fields: {})",
            param.wire,
            param.wire,
            fields.join(", ")
        )),
        (Repeat::One, _, _) => Err(format!("--{} is not a list", param.wire)),
    }
}

/// The parameters of `op` (its own, then the common ones) as wire pairs, in spec order.
fn collect(product: &Product, op: &OperationSpec, m: &ArgMatches, numbered: Vec<Numbered>) -> Result<Params, String> {
    let mut params = Params::new();
    for p in product.params(op) {
        let mine: Vec<&Numbered> = numbered.iter().filter(|n| n.param == p.wire).collect();
        match p.repeat {
            Repeat::One => {
                if let Some(value) = m.get_one::<String>(p.wire) {
                    params.push(p.wire, value);
                }
            }
            Repeat::Values => {
                let flagged: Vec<&String> = m.get_many::<String>(p.wire).map(Iterator::collect).unwrap_or_default();
                if !flagged.is_empty() && !mine.is_empty() {
                    return Err(format!(
                        "--{w} is given both repeated and numbered: use one form (--{w} a --{w} b, or --{w}.1 a --{w}.2 b)",
                        w = p.wire
                    ));
                }
                for (i, value) in flagged.iter().enumerate() {
                    params.push(&format!("{}.{}", p.wire, i + 1), value);
                }
                let mut items: BTreeMap<usize, &str> = BTreeMap::new();
                for n in &mine {
                    if items.insert(n.index, &n.value).is_some() {
                        return Err(format!("--{}.{} is given twice", p.wire, n.index));
                    }
                }
                contiguous(p.wire, items.keys().copied())?;
                for (i, value) in items {
                    params.push(&format!("{}.{i}", p.wire), value);
                }
            }
            Repeat::Structs(_) => {
                let mut items: BTreeMap<(usize, usize), (&str, &str)> = BTreeMap::new();
                for n in &mine {
                    let (pos, field) = n.field.unwrap_or((0, ""));
                    if items.insert((n.index, pos), (field, &n.value)).is_some() {
                        return Err(format!("--{}.{}.{field} is given twice", p.wire, n.index));
                    }
                }
                let mut indexes: Vec<usize> = items.keys().map(|(i, _)| *i).collect();
                indexes.dedup();
                contiguous(p.wire, indexes.into_iter())?;
                for ((i, _), (field, value)) in items {
                    params.push(&format!("{}.{i}.{field}", p.wire), value);
                }
            }
        }
    }
    Ok(params)
}

/// Numbers must run 1, 2, 3, … : the server reads a list up to its first gap.
fn contiguous(wire: &str, sorted: impl Iterator<Item = usize>) -> Result<(), String> {
    for (expected, n) in (1..).zip(sorted) {
        if n != expected {
            return Err(format!(
                "--{wire}.{n} is given without --{wire}.{expected}: number the items from 1 without gaps (the server reads up to the first gap)"
            ));
        }
    }
    Ok(())
}

fn settings(m: &ArgMatches) -> Settings {
    let text = |id: &str| m.get_one::<String>(id).cloned();
    Settings {
        profile: text("profile"),
        region: text("region"),
        endpoint: text("endpoint"),
        access_key_id: text("access-key-id"),
        access_key_secret: text("access-key-secret").map(Secret::new),
        sts_token: text("sts-token").map(Secret::new),
        compact: m.get_flag("compact"),
        all_pages: m.try_get_one::<bool>("all-pages").ok().flatten().copied().unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoke::{Call, Pending};

    fn never(_: Call) -> Pending {
        Box::pin(async { Ok(serde_json::Value::Null) })
    }

    static SERVICE: alibaba_rpc_runtime::operation::ServiceInfo = alibaba_rpc_runtime::operation::ServiceInfo {
        product: "Demo",
        version: "2020-01-01",
        endpoint_pattern: "https://demo.{region}.aliyuncs.com",
    };

    static PRODUCT: Product = Product {
        operations: &[OperationSpec {
            params: &[
                ParamSpec::value("Name", "string"),
                ParamSpec::list("Id", "list<string>"),
                ParamSpec::structs("Tag", "list<Tag>", &["Key", "Value"]),
            ],
            ..OperationSpec::new("Tag", never)
        }],
        common_params: &[ParamSpec::value("OwnerId", "int64"), ParamSpec::list("Scope", "list<string>")],
        ..Product::new("demo", "0.1.0", &SERVICE)
    };

    fn pairs(argv: &[&str]) -> Result<Vec<(String, String)>, String> {
        match parse(&PRODUCT, argv.iter().map(OsString::from).collect()) {
            Ok(Parsed::Call { params, .. }) => Ok(params.iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect()),
            Ok(other) => Err(format!("{other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_global_value_equal_to_an_operation_name_is_not_the_operation() {
        // `--region Tag` is the region; the operation is the next `Tag`, and the numbered
        // flags after it are its own, whatever their order and form.
        let got = pairs(&[
            "demo",
            "--region",
            "Tag",
            "Tag",
            "--Id.2",
            "b",
            "--Id.1=a",
            "--Tag.1.Value",
            "v",
            "--Tag.1.Key=k",
        ]);
        assert_eq!(got, Ok(owned(&[("Id.1", "a"), ("Id.2", "b"), ("Tag.1.Key", "k"), ("Tag.1.Value", "v")])));
    }

    #[test]
    fn values_starting_with_a_hyphen_and_repeated_flags() {
        let got = pairs(&["demo", "Tag", "--Name", "-x", "--Id", "a", "--Id", "b"]);
        assert_eq!(got, Ok(owned(&[("Name", "-x"), ("Id.1", "a"), ("Id.2", "b")])));
    }

    #[test]
    fn common_parameters_are_flags_of_every_operation_sent_after_its_own() {
        let got = pairs(&["demo", "Tag", "--OwnerId", "7", "--Scope.1", "s", "--Name", "n"]);
        assert_eq!(got, Ok(owned(&[("Name", "n"), ("OwnerId", "7"), ("Scope.1", "s")])));
        let help = command(&PRODUCT).find_subcommand("Tag").map(|c| c.get_arguments().any(|a| a.get_id() == "OwnerId"));
        assert_eq!(help, Some(true), "the common parameter is not a flag of the operation");
    }

    #[test]
    fn numbering_mistakes_are_usage_errors() {
        for bad in [
            &["demo", "Tag", "--Id.01", "a"][..],
            &["demo", "Tag", "--Id.1", "a", "--Id.1", "b"][..],
            &["demo", "Tag", "--Tag.2.Key", "k"][..],
            &["demo", "Tag", "--Tag.1", "k"][..],
            &["demo", "Tag", "--Id.1"][..],
            &["demo", "Tag", "--Name.1", "x"][..],
        ] {
            assert!(pairs(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
