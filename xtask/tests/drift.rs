//! `cargo xtask check` on a temporary copy of the project: it passes on the committed tree and
//! fails, naming the fix, on an edited, a deleted and an extra generated file; `gen` repairs all
//! three; a broken spec writes nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let p = entry.expect("entry").path();
        let dest = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

fn project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for sub in [
        "spec",
        "generated-model/src",
        "generated-client/src",
        "generated-server/src",
        "fixtures/ecs/model/src",
        "fixtures/ecs/client/src",
        "fixtures/ecs/server/src",
        "sts/model/src",
        "sts/client/src",
        "sts/server/src",
        "generated-cli/src",
        "fixtures/ecs/cli/src",
    ] {
        copy_dir(&root().join(sub), &dir.path().join(sub));
    }
    dir
}

fn xtask(root: &Path, cmd: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).arg(cmd).arg("--root").arg(root).output().expect("run xtask")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_passes_on_the_committed_tree() {
    let o = xtask(&root(), "check");
    assert!(o.status.success(), "the committed generated code is out of date:\n{}", stderr(&o));
}

#[test]
fn check_catches_an_edited_a_deleted_and_an_extra_file_and_gen_repairs_them() {
    let dir = project_copy();
    let r = dir.path();
    assert!(xtask(r, "check").status.success());

    let edited = r.join("generated-model/src/shapes.rs");
    let text = std::fs::read_to_string(&edited).expect("read");
    std::fs::write(&edited, text.replacen("pub struct User", "pub struct Usr", 1)).expect("edit");
    std::fs::remove_file(r.join("generated-model/src/codes.rs")).expect("delete");
    std::fs::write(r.join("generated-server/src/extra.rs"), "// left over\n").expect("extra");

    let o = xtask(r, "check");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("differs: generated-model/src/shapes.rs"), "{err}");
    assert!(err.contains("-pub struct Usr"), "no unified diff:\n{err}");
    assert!(err.contains("+pub struct User"), "no unified diff:\n{err}");
    assert!(err.contains("missing: generated-model/src/codes.rs"), "{err}");
    assert!(err.contains("stale: generated-server/src/extra.rs"), "{err}");
    assert!(err.contains("run `cargo xtask gen`"), "{err}");

    let o = xtask(r, "gen");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!r.join("generated-server/src/extra.rs").exists());
    assert!(xtask(r, "check").status.success());
}

#[test]
fn a_spec_edit_without_gen_fails_check_with_a_diff() {
    let dir = project_copy();
    let r = dir.path();
    let spec = r.join("spec/smartag.yaml");
    let text = std::fs::read_to_string(&spec).expect("read");
    std::fs::write(&spec, text.replacen("range: { min: 1, max: 2000 }", "range: { min: 1, max: 1500 }", 1))
        .expect("edit");
    let o = xtask(r, "check");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("+            if !(1..=1500).contains(&value) {"), "{err}");
}

#[test]
fn a_broken_spec_names_its_place_and_writes_nothing() {
    let dir = project_copy();
    let r = dir.path();
    let spec = r.join("spec/smartag.yaml");
    let text = std::fs::read_to_string(&spec).expect("read");
    std::fs::write(
        &spec,
        text.replacen(
            "        type: int64\n        required: true\n        type_error",
            "        type: int46\n        required: true\n        type_error",
            1,
        ),
    )
    .expect("edit");
    let before = std::fs::read_to_string(r.join("generated-model/src/shapes.rs")).expect("read");
    let o = xtask(r, "gen");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("spec/smartag.yaml:") && err.contains("unknown type `int46` for parameter `Bandwidth`"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(std::fs::read_to_string(r.join("generated-model/src/shapes.rs")).expect("read"), before);
}

#[test]
fn help_explains_gen_and_check() {
    let o = Command::new(env!("CARGO_BIN_EXE_xtask")).arg("--help").output().expect("run");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("gen") && out.contains("check") && out.contains("spec/smartag.yaml"), "{out}");
}

#[test]
fn gen_and_check_serve_another_api_with_spec_and_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path();
    std::fs::copy(root().join("xtask/tests/fixtures/demo.yaml"), out.join("demo.yaml")).expect("copy spec");
    let run = |cmd: &str| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args([cmd, "--spec"])
            .arg(out.join("demo.yaml"))
            .arg("--out")
            .arg(out)
            .output()
            .expect("run xtask")
    };
    let o = run("gen");
    assert!(o.status.success(), "{}", stderr(&o));
    let lib = std::fs::read_to_string(out.join("model/src/lib.rs")).expect("the model crate of the demo spec");
    assert!(lib.starts_with("// @generated by `cargo xtask gen` from demo.yaml."), "{lib}");
    assert!(lib.contains("demo_runtime") && !lib.contains("smartag"), "{lib}");
    assert!(out.join("client/src/lib.rs").exists() && out.join("server/src/lib.rs").exists());
    assert!(run("check").status.success());

    std::fs::write(out.join("server/src/extra.rs"), "// left over\n").expect("extra");
    let o = run("check");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("stale: server/src/extra.rs"), "{}", stderr(&o));
}
