//! A table of broken specs and the exact diagnostics each one gets.

mod common;

use common::{BASE, mutate};

fn diagnostics(text: &str) -> String {
    match smartag_codegen::load_str(text, "spec.yaml") {
        Ok(_) => "ok".to_string(),
        Err(d) => d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
    }
}

#[test]
fn the_base_spec_is_valid() {
    assert_eq!(diagnostics(BASE), "ok");
}

#[test]
fn broken_specs_get_exact_diagnostics() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "typo in a key",
            mutate(
                "      - name: Size\n        type: int64\n        constraints",
                "      - name: Size\n        tpye: int64\n        constraints",
            ),
            "spec.yaml:20:9: operations[0].parameters[0]: unknown field `tpye`, expected one of `name`, `rust_name`, `type`, `required`, `default`, `description`, `secret`, `missing_error`, `empty_error`, `type_error`, `constraints`\n  hint: did you mean `type`?",
        ),
        (
            "missing required key",
            mutate("    idempotent: true\n", ""),
            "spec.yaml:15:5: operations[0]: missing field `idempotent`\n  hint: add `idempotent:` here",
        ),
        (
            "YAML syntax error",
            mutate("  protocol: rpc", "  protocol: \"rpc"),
            "spec.yaml:5:14: did not find expected key, while parsing a block mapping",
        ),
        (
            "unknown type",
            mutate("        type: int32\n        default: 1", "        type: integr\n        default: 1"),
            "spec.yaml:25:15: unknown type `integr` for parameter `PageNumber`\n  hint: did you mean `int32`?",
        ),
        (
            "duplicate parameter",
            mutate("      - name: PageNumber", "      - name: Size"),
            "spec.yaml:24:15: duplicate parameter `Size` in operation `ListThings`\n  hint: it is already declared at operations[0].parameters[0]\nspec.yaml:37:20: pagination names the parameter `PageNumber`, which `ListThings` does not have\n  hint: did you mean `PageSize`?",
        ),
        (
            "constraint naming an undeclared code",
            mutate("            error: Thing.SizeInvalid", "            error: Thing.SizeInvalyd"),
            "spec.yaml:23:20: error code `Thing.SizeInvalyd` is not declared for operation `ListThings`\n  hint: did you mean `Thing.SizeInvalid`?",
        ),
        (
            "default outside its own range",
            mutate("        default: 10", "        default: 80"),
            "spec.yaml:29:18: default 80 of `PageSize` is outside its own range 1..=50\n  hint: change the default or the range",
        ),
        (
            "pagination field that does not exist",
            mutate("      total_count: TotalCount", "      total_count: Total"),
            "spec.yaml:39:20: pagination names the response field `Total`, which `ListThings` does not have\n  hint: did you mean `TotalCount`?",
        ),
        (
            "operation error not declared",
            mutate(
                "    errors:\n      - Thing.SizeInvalid\n",
                "    errors:\n      - Thing.SizeInvalid\n      - Thing.Gone\n",
            ),
            "spec.yaml:43:9: error code `Thing.Gone` is not declared\n  hint: declare it under `errors:`",
        ),
        (
            "range on a string, min above max",
            mutate(
                "        type: int64\n        constraints:\n          - range: { min: 1, max: 10 }",
                "        type: string\n        constraints:\n          - range: { min: 10, max: 1 }",
            ),
            "spec.yaml:22:20: `range` on non-integer parameter `Size`\n  hint: use `length` for strings\nspec.yaml:22:20: min 10 is greater than max 1\n  hint: swap them",
        ),
        (
            "pattern that does not compile",
            mutate("          - range: { min: 1, max: 10 }", "          - pattern: '(['"),
            "spec.yaml:22:22: `pattern` on non-string parameter `Size`\nspec.yaml:22:22: pattern `([` does not compile: error: unclosed character class\n  hint: patterns use the `regex` crate's syntax",
        ),
        (
            "a protocol_errors section",
            mutate(
                "errors:\n",
                "protocol_errors:\n  - { code: Throttling, status: 400, message: throttled }\nerrors:\n",
            ),
            "spec.yaml:8:3: a spec does not declare protocol errors: every product answers the same ones\n  hint: delete this section; the runtime declares them once (`alibaba_rpc_runtime::errors::ProtocolCode`), and the spec's `errors:` holds its operations' own codes",
        ),
        (
            "a protocol code among the spec's errors",
            mutate("errors:\n", "errors:\n  - { code: Throttling, status: 400, message: throttled }\n"),
            "spec.yaml:8:13: `Throttling` is a protocol error, which every operation answers already\n  hint: delete this entry; the runtime declares it (`alibaba_rpc_runtime::errors::ProtocolCode`)",
        ),
        (
            "unknown placeholder",
            mutate("message: The size is invalid. }", "message: 'The size is {invalid}.' }"),
            "spec.yaml:8:54: unknown placeholder `{invalid}` in message\n  hint: messages may use `{param}`, `{string_to_sign}`, `{reason}`",
        ),
        (
            "list of an unknown shape",
            mutate("type: list<Thing>", "type: list<Thingy>"),
            "spec.yaml:35:31: unknown shape `Thingy` in type `list<Thingy>`\n  hint: did you mean `list<Thing>`?",
        ),
        (
            "count on a single value",
            mutate("          - range: { min: 1, max: 10 }", "          - count: { max: 10 }"),
            "spec.yaml:22:20: `count` on parameter `Size`, which is not a list\n  hint: `count` bounds the number of items of a `list<…>` parameter",
        ),
        (
            "a list of values without its element",
            mutate(
                "      - { name: Things, type: list<Thing> }",
                "      - { name: Things, type: list<Thing> }\n      - { name: Labels, type: list<string> }",
            ),
            "spec.yaml:36:31: list of values `list<string>` without an `element`\n  hint: name the inner element: `element: Label` reads `\"Labels\": {\"Label\": [...]}`",
        ),
        (
            "two enum values giving one variant",
            mutate("shapes:\n", "enums:\n  - name: Color\n    values: [{ value: red }, { value: Red }]\nshapes:\n"),
            "spec.yaml:11:39: value `Red` of enum `Color` clashes with `red` (both give the variant `Red`)",
        ),
        (
            "a constraint on an enum",
            mutate("shapes:\n", "enums:\n  - name: Color\n    values: [{ value: red }]\nshapes:\n")
                .replace("        type: int64\n        constraints", "        type: Color\n        constraints"),
            "spec.yaml:25:13: parameter `Size` of type `Color` takes no constraint but `count` (for lists)\n  hint: enums check their values themselves; lists take `count`",
        ),
        (
            "an unknown auth",
            mutate("    idempotent: true\n", "    idempotent: true\n    auth: nnoe\n"),
            "spec.yaml:18:11: unknown auth `nnoe` for operation `ListThings`\n  hint: did you mean `none`?",
        ),
        (
            "an auth that is nothing like one",
            mutate("    idempotent: true\n", "    idempotent: true\n    auth: oauth2-bearer\n"),
            "spec.yaml:18:11: unknown auth `oauth2-bearer` for operation `ListThings`\n  hint: use `signed` (an AccessKey signature, the default) or `none` (an anonymous call)",
        ),
        (
            "a secret that is not a string",
            mutate(
                "      - { name: Size, type: int64, required: true }",
                "      - { name: Size, type: int64, required: true, secret: true }",
            ),
            "spec.yaml:13:60: field `Size` of type `int64` cannot be secret\n  hint: only `string` fields can be secret (an AccessKey secret, a token)",
        ),
    ];
    let mut failures = Vec::new();
    for (name, spec, expected) in &cases {
        let got = diagnostics(spec);
        if got != *expected {
            failures.push(format!("--- {name}\nexpected:\n{expected}\ngot:\n{got}\n"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let spec = mutate("        type: int32\n        default: 1", "        type: integr\n        default: 1")
        .replace("      total_count: TotalCount", "      total_count: Total")
        .replace("error: Thing.SizeInvalid", "error: Thing.SizeInvalyd");
    let got = diagnostics(&spec);
    assert_eq!(got.lines().filter(|l| l.starts_with("spec.yaml:")).count(), 3, "{got}");
}

#[test]
fn a_broken_spec_never_panics() {
    // Every prefix of the base spec is either valid or a clean list of diagnostics.
    for cut in (0..BASE.len()).step_by(7) {
        if BASE.is_char_boundary(cut) {
            let _ = diagnostics(&BASE[..cut]);
        }
    }
}
