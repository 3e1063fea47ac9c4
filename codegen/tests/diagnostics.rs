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
            "spec.yaml:37:9: operations[0].parameters[0]: unknown field `tpye`, expected one of `name`, `rust_name`, `type`, `required`, `default`, `description`, `secret`, `missing_error`, `empty_error`, `type_error`, `constraints`\n  hint: did you mean `type`?",
        ),
        (
            "missing required key",
            mutate("    idempotent: true\n", ""),
            "spec.yaml:32:5: operations[0]: missing field `idempotent`\n  hint: add `idempotent:` here",
        ),
        (
            "YAML syntax error",
            mutate("  protocol: rpc", "  protocol: \"rpc"),
            "spec.yaml:5:14: did not find expected key, while parsing a block mapping",
        ),
        (
            "unknown type",
            mutate("        type: int32\n        default: 1", "        type: integr\n        default: 1"),
            "spec.yaml:42:15: unknown type `integr` for parameter `PageNumber`\n  hint: did you mean `int32`?",
        ),
        (
            "duplicate parameter",
            mutate("      - name: PageNumber", "      - name: Size"),
            "spec.yaml:41:15: duplicate parameter `Size` in operation `ListThings`\n  hint: it is already declared at operations[0].parameters[0]\nspec.yaml:54:20: pagination names the parameter `PageNumber`, which `ListThings` does not have\n  hint: did you mean `PageSize`?",
        ),
        (
            "constraint naming an undeclared code",
            mutate("            error: Thing.SizeInvalid", "            error: Thing.SizeInvalyd"),
            "spec.yaml:40:20: error code `Thing.SizeInvalyd` is not declared for operation `ListThings`\n  hint: did you mean `Thing.SizeInvalid`?",
        ),
        (
            "default outside its own range",
            mutate("        default: 10", "        default: 80"),
            "spec.yaml:46:18: default 80 of `PageSize` is outside its own range 1..=50\n  hint: change the default or the range",
        ),
        (
            "pagination field that does not exist",
            mutate("      total_count: TotalCount", "      total_count: Total"),
            "spec.yaml:56:20: pagination names the response field `Total`, which `ListThings` does not have\n  hint: did you mean `TotalCount`?",
        ),
        (
            "operation error not declared",
            mutate(
                "    errors:\n      - Thing.SizeInvalid\n",
                "    errors:\n      - Thing.SizeInvalid\n      - Thing.Gone\n",
            ),
            "spec.yaml:60:9: error code `Thing.Gone` is not declared\n  hint: declare it under `errors:`",
        ),
        (
            "range on a string, min above max",
            mutate(
                "        type: int64\n        constraints:\n          - range: { min: 1, max: 10 }",
                "        type: string\n        constraints:\n          - range: { min: 10, max: 1 }",
            ),
            "spec.yaml:39:20: `range` on non-integer parameter `Size`\n  hint: use `length` for strings\nspec.yaml:39:20: min 10 is greater than max 1\n  hint: swap them",
        ),
        (
            "pattern that does not compile",
            mutate("          - range: { min: 1, max: 10 }", "          - pattern: '(['"),
            "spec.yaml:39:22: `pattern` on non-string parameter `Size`\nspec.yaml:39:22: pattern `([` does not compile: error: unclosed character class\n  hint: patterns use the `regex` crate's syntax",
        ),
        (
            "a role nobody plays",
            mutate(", role: throttling", ""),
            "spec.yaml:8:3: no protocol error has the role `throttling` (a request refused for load)\n  hint: add `role: throttling` to the code the server answers for a request refused for load",
        ),
        (
            "unknown placeholder",
            mutate("is missing.", "is {missing}."),
            "spec.yaml:8:78: unknown placeholder `{missing}` in message\n  hint: messages may use `{param}`, `{string_to_sign}`, `{reason}`",
        ),
        (
            "list of an unknown shape",
            mutate("type: list<Thing>", "type: list<Thingy>"),
            "spec.yaml:52:31: unknown shape `Thingy` in type `list<Thingy>`\n  hint: did you mean `list<Thing>`?",
        ),
        (
            "count on a single value",
            mutate("          - range: { min: 1, max: 10 }", "          - count: { max: 10 }"),
            "spec.yaml:39:20: `count` on parameter `Size`, which is not a list\n  hint: `count` bounds the number of items of a `list<…>` parameter",
        ),
        (
            "a list of values without its element",
            mutate(
                "      - { name: Things, type: list<Thing> }",
                "      - { name: Things, type: list<Thing> }\n      - { name: Labels, type: list<string> }",
            ),
            "spec.yaml:53:31: list of values `list<string>` without an `element`\n  hint: name the inner element: `element: Label` reads `\"Labels\": {\"Label\": [...]}`",
        ),
        (
            "two enum values giving one variant",
            mutate("shapes:\n", "enums:\n  - name: Color\n    values: [{ value: red }, { value: Red }]\nshapes:\n"),
            "spec.yaml:28:39: value `Red` of enum `Color` clashes with `red` (both give the variant `Red`)",
        ),
        (
            "a constraint on an enum",
            mutate("shapes:\n", "enums:\n  - name: Color\n    values: [{ value: red }]\nshapes:\n")
                .replace("        type: int64\n        constraints", "        type: Color\n        constraints"),
            "spec.yaml:42:18: parameter `Size` of type `Color` takes no constraint but `count` (for lists)\n  hint: enums check their values themselves; lists take `count`",
        ),
        (
            "an unknown auth",
            mutate("    idempotent: true\n", "    idempotent: true\n    auth: nnoe\n"),
            "spec.yaml:35:11: unknown auth `nnoe` for operation `ListThings`\n  hint: did you mean `none`?",
        ),
        (
            "an auth that is nothing like one",
            mutate("    idempotent: true\n", "    idempotent: true\n    auth: oauth2-bearer\n"),
            "spec.yaml:35:11: unknown auth `oauth2-bearer` for operation `ListThings`\n  hint: use `signed` (an AccessKey signature, the default) or `none` (an anonymous call)",
        ),
        (
            "a secret that is not a string",
            mutate(
                "      - { name: Size, type: int64, required: true }",
                "      - { name: Size, type: int64, required: true, secret: true }",
            ),
            "spec.yaml:30:60: field `Size` of type `int64` cannot be secret\n  hint: only `string` fields can be secret (an AccessKey secret, a token)",
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
