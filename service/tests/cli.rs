//! The binary's command line: refusals that keep the service from starting, with the reason.

use std::process::Command;

fn service() -> Command {
    Command::new(env!("CARGO_BIN_EXE_smartag-service"))
}

#[test]
fn the_demo_key_is_refused_on_a_non_loopback_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = service()
        .args(["--listen", "0.0.0.0:0", "--data"])
        .arg(dir.path().join("db.sqlite"))
        .output()
        .expect("run the service");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to listen on 0.0.0.0:0 with the demo access key"), "{err}");
    assert!(err.contains("--config"), "{err}");
}

#[test]
fn a_bad_config_file_names_file_line_and_problem_and_does_not_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("smartag.toml");
    std::fs::write(
        &config,
        "[[access_keys]]\nid = \"k\"\nsecret = \"s\"\n\n[[instances]]\nregion = \"cn-shanghai\"\nid = \"sag-1\"\ncidrr = \"10.0.0.0/24\"\n",
    )
    .expect("write config");
    let out =
        service().arg("--config").arg(&config).arg("--data").arg(dir.path().join("db.sqlite")).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("smartag.toml:8:"), "no file:line in {err}");
    assert!(err.contains("cidrr"), "the problem is not named in {err}");
    assert!(!dir.path().join("db.sqlite").exists(), "the service started anyway");
}

#[test]
fn help_lists_the_options() {
    let out = service().arg("--help").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for opt in ["--listen", "--config", "--data"] {
        assert!(text.contains(opt), "{opt} missing from --help:\n{text}");
    }
}
