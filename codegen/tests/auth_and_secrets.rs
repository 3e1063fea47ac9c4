//! `auth: none` and `secret:` response fields, in the code generated from a small spec: only what
//! uses them changes.

mod common;

use common::{BASE, mutate};

fn generate(text: &str) -> smartag_codegen::Tree {
    let api = smartag_codegen::load_str(text, "spec.yaml").expect("a valid spec");
    smartag_codegen::generate(&api, "spec.yaml").expect("it generates")
}

fn file<'a>(tree: &'a smartag_codegen::Tree, suffix: &str) -> &'a str {
    tree.iter()
        .find(|(path, _)| path.ends_with(suffix))
        .map(|(_, text)| text.as_str())
        .unwrap_or_else(|| panic!("no file ending in {suffix}: {:?}", tree.keys().collect::<Vec<_>>()))
}

#[test]
fn an_anonymous_operation_says_so_to_the_client_and_the_server() {
    let signed = generate(BASE);
    assert!(!file(&signed, "operations/list_things.rs").contains("ANONYMOUS"));
    assert!(!file(&signed, "server/src/lib.rs").contains("is_anonymous"));
    // `auth: signed` is the default, spelled out.
    let explicit = generate(&mutate("    idempotent: true\n", "    idempotent: true\n    auth: signed\n"));
    assert_eq!(signed, explicit);

    let anonymous = generate(&mutate("    idempotent: true\n", "    idempotent: true\n    auth: none\n"));
    assert!(file(&anonymous, "operations/list_things.rs").contains("const ANONYMOUS: bool = true;"));
    let server = file(&anonymous, "server/src/lib.rs");
    assert!(server.contains("fn is_anonymous(&self, action: &str) -> bool"), "{server}");
    assert!(server.contains("matches!(action, \"ListThings\")"), "{server}");
}

#[test]
fn secret_response_fields_are_redacted_in_debug() {
    let plain = generate(BASE);
    assert!(file(&plain, "model/src/shapes.rs").contains("#[derive(Debug, Clone"));

    let secret = generate(&mutate(
        "      - { name: Size, type: int64, required: true }",
        "      - { name: Size, type: int64, required: true }\n      - { name: Key, type: string, secret: true }",
    ));
    let shapes = file(&secret, "model/src/shapes.rs");
    assert!(!shapes.contains("#[derive(Debug, Clone"), "{shapes}");
    assert!(shapes.contains(".field(\"key\", &self.key.as_ref().map(|_| \"***\"))"), "{shapes}");
    assert!(shapes.contains(".field(\"size\", &self.size)"), "{shapes}");
}
