//! A large synthetic spec (60 operations; names that collide with Rust keywords and prelude
//! items) generates crates that compile warning-free under clippy.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const AWKWARD: &[&str] = &[
    "Type", "Self", "Result", "Option", "Box", "Vec", "String", "New", "Match", "Async", "Await", "Crate", "Super",
    "Fn", "Impl", "Loop", "Move", "Mod", "Ref", "Return", "Static", "Struct", "Trait", "Unsafe", "Use", "Where",
    "While", "Yield", "Gen", "Try", "Dyn", "Default", "Clone", "Debug", "Send", "Sync", "Sized", "Drop", "Iterator",
    "Into",
];

fn synthetic_spec() -> String {
    let base = common::BASE;
    let head = base.split("errors:\n  - { code: Thing").next().unwrap_or(base);
    let mut s = head.to_string();
    s.push_str("errors:\n  - { code: Self.Invalid, status: 400, message: 'bad {param}' }\n  - { code: Type, status: 409, message: conflict }\n  - { code: Result.None, status: 400, message: none }\n");
    s.push_str("shapes:\n");
    for shape in ["Option", "Result", "String", "Vec", "Box"] {
        let _ = write!(
            s,
            "  - name: {shape}\n    element: {shape}\n    fields:\n      - {{ name: Type, type: string, required: true }}\n      - {{ name: Self, type: int64 }}\n      - {{ name: Match, type: bool }}\n"
        );
    }
    // The crate names and directories of this workspace's generated crates, whose manifests the
    // test reuses: the `generation:` section of the project's spec.
    let project = std::fs::read_to_string(workspace_root().join("spec/smartag.yaml")).expect("project spec");
    let generation = project.split("\ngeneration:\n").nth(1).expect("generation section");
    let generation: String = generation.lines().take_while(|l| l.starts_with("  ")).map(|l| format!("{l}\n")).collect();
    s.push_str("generation:\n");
    s.push_str(&generation);
    s.push_str("operations:\n");
    for i in 0..60 {
        let name = if i < AWKWARD.len() { AWKWARD[i].to_string() } else { format!("Operation{i}") };
        let shape = ["Option", "Result", "String", "Vec", "Box"][i % 5];
        let _ = write!(
            s,
            r#"  - name: {name}
    summary: Operation {i}.
    idempotent: {idem}
    parameters:
      - {{ name: type, type: string, required: true, missing_error: Self.Invalid }}
      - name: self
        type: string
        empty_error: Self.Invalid
        constraints:
          - length: {{ min: 2, max: 8 }}
            error: Self.Invalid
          - pattern: '^[a-z]+$'
            error: Self.Invalid
      - {{ name: Super, type: int32, required: true, type_error: Type }}
      - name: Result
        type: int64
        constraints:
          - range: {{ min: -5 }}
            error: InvalidParameter
      - {{ name: async, type: bool }}
      - {{ name: Mail, type: string, secret: true, constraints: [ {{ format: email, error: Self.Invalid }} ] }}
      - {{ name: Ip, type: string, constraints: [ {{ format: private_ipv4, error: Result.None }} ] }}
      - {{ name: PageNumber, type: int32, default: 1 }}
      - name: PageSize
        type: int32
        default: 5
        constraints:
          - range: {{ min: 1, max: 20 }}
            error: InvalidParameter
    rules:
      - requires: {{ if: self, then: Mail }}
        error: Type
    response:
      - {{ name: Type, type: string, required: true }}
      - {{ name: TotalCount, type: int32, required: true }}
      - {{ name: Option, type: list<{shape}> }}
      - {{ name: Box, type: int64 }}
    pagination: {{ page_number: PageNumber, page_size: PageSize, total_count: TotalCount, items: Option }}
    errors: [Self.Invalid, Type, Result.None]
"#,
            idem = i % 2 == 0
        );
    }
    s
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn a_large_awkward_spec_generates_code_that_compiles_warning_free() {
    let spec = synthetic_spec();
    let api =
        smartag_codegen::load_str(&spec, "synthetic.yaml").unwrap_or_else(|d| panic!("synthetic spec invalid:\n{d}"));
    assert_eq!(api.operations.len(), 60);
    let tree = smartag_codegen::generate(&api, "synthetic.yaml").unwrap_or_else(|e| panic!("{e}"));

    let root = workspace_root().canonicalize().expect("workspace root");
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = dir.path();
    let real = std::fs::read_to_string(root.join("Cargo.toml")).expect("root manifest");
    let deps = real.split("[workspace.dependencies]").nth(1).expect("workspace deps section");
    let manifest = format!(
        "[workspace]\nresolver = \"3\"\nmembers = [\"generated-model\", \"generated-client\", \"generated-server\"]\n\n[workspace.package]\nedition = \"2024\"\nrust-version = \"1.95\"\nlicense = \"Apache-2.0\"\npublish = false\nrepository = \"https://example.invalid\"\nhomepage = \"https://example.invalid\"\n\n[workspace.dependencies]{deps}"
    );
    std::fs::write(ws.join("Cargo.toml"), manifest).expect("write manifest");
    std::fs::copy(root.join("Cargo.lock"), ws.join("Cargo.lock")).expect("copy lock");
    for krate in ["generated-model", "generated-client", "generated-server"] {
        let m = std::fs::read_to_string(root.join(krate).join("Cargo.toml")).expect("crate manifest");
        let m = m.replace("path = \"../runtime\"", &format!("path = {:?}", root.join("runtime").display().to_string()));
        std::fs::create_dir_all(ws.join(krate)).expect("mkdir");
        // Dev-dependencies of the real crates are not needed to check the libraries.
        let m = m.split("[dev-dependencies]").next().unwrap_or(&m).to_string() + "\n[lib]\npath = \"src/lib.rs\"\n";
        let m = m.replace("\n# The sources are generated: an explicit path keeps the workspace loadable (and `cargo xtask gen`\n# runnable) even when src/ has been deleted.\n[lib]\npath = \"src/lib.rs\"\n", "\n");
        std::fs::write(ws.join(krate).join("Cargo.toml"), m).expect("write crate manifest");
    }
    for (rel, text) in &tree {
        let p = ws.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write generated file");
    }
    // The dependencies are checked in the target directory, with the flags and `--target`, that the
    // compile-fail test of the generated client (`generated-client/tests/compile_fail.rs`) gives
    // trybuild, so whichever of the two runs second reuses what the first checked instead of
    // checking the whole dependency tree again.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("..").join("tests").join("trybuild");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .args(["clippy", "--offline", "--quiet", "--workspace", "--target", &host_triple()])
        // `-W dead_code` undoes the shared flags' `-A dead_code` for the generated crates.
        .args(["--", "-D", "warnings", "-W", "dead_code"])
        .current_dir(ws)
        .env("CARGO_TARGET_DIR", &target);
    if std::env::var_os("RUSTFLAGS").is_none() && std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_none() {
        command.env("CARGO_ENCODED_RUSTFLAGS", SHARED_RUSTFLAGS);
    }
    let out = command.output().expect("run cargo clippy");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "generated code for the synthetic spec does not compile cleanly:\n{stderr}");
}

/// The flags trybuild checks with in the compile-fail test of the generated client; keep in step
/// with `SHARED_RUSTFLAGS` in `generated-client/tests/compile_fail.rs`.
const SHARED_RUSTFLAGS: &str = "--cfg\x1ftrybuild\x1f--verbose\x1f-A\x1fdead_code\x1f--diagnostic-width=140";

/// The host's target triple (trybuild always passes `--target`, which puts libraries under
/// `<target-dir>/<triple>/`), from `rustc -vV`.
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("-vV").output().expect("run rustc -vV");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no host line in rustc -vV:\n{text}"))
}
