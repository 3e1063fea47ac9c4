//! The mail outbox: one private, atomically written file per message.

use std::fs;

use smartag_service::outbox::{Mail, Outbox, OutboxError};

fn account_mail() -> Mail {
    Mail::account_created("alice@example.com", "cn-shanghai", "sag-demo", "alice", "Pw_generated-123")
}

#[test]
fn delivers_one_private_file_per_message() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("spool").join("outbox");
    let outbox = Outbox::new(&dir).expect("outbox");
    assert_eq!(outbox.dir(), dir);

    let first = outbox.deliver(&account_mail()).expect("deliver");
    let second = outbox.deliver(&account_mail()).expect("deliver");
    assert_ne!(first, second, "unique names");
    assert_eq!(first.parent(), Some(dir.as_path()));
    assert!(first.extension().is_some_and(|e| e == "eml"), "{}", first.display());

    let text = fs::read_to_string(&first).expect("read message");
    for expected in [
        "To: alice@example.com\r\n",
        "Subject: Your Smart Access Gateway APP client account\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Username:  alice\r\n",
        "Password:  Pw_generated-123\r\n",
        "Instance:  sag-demo\r\n",
        "\r\n\r\nHello,",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }

    let mut names: Vec<_> = fs::read_dir(&dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
    assert!(names.iter().all(|n| n.ends_with(".eml") && !n.starts_with('.')), "{names:?}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "outbox folder mode");
        assert_eq!(mode(&first), 0o600, "message file mode");
        assert_eq!(mode(&second), 0o600, "message file mode");
    }
}

#[test]
fn debug_never_shows_the_body() {
    let debug = format!("{:?}", account_mail());
    assert!(debug.contains("alice@example.com"));
    assert!(!debug.contains("Pw_generated-123"), "{debug}");
}

#[test]
fn header_injection_is_refused() {
    let root = tempfile::tempdir().expect("tempdir");
    let outbox = Outbox::new(root.path().join("outbox")).expect("outbox");
    let mail = Mail::account_created("a@example.com\r\nBcc: evil@example.com", "r", "i", "u", "p");
    let error = outbox.deliver(&mail).expect_err("injection");
    assert!(matches!(error, OutboxError::InvalidHeader { header: "recipient" }), "{error:?}");
    assert_eq!(fs::read_dir(outbox.dir()).expect("read dir").count(), 0, "nothing written");
}

#[cfg(unix)]
#[test]
fn existing_folder_open_to_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("shared");
    fs::create_dir(&dir).expect("mkdir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
    let error = Outbox::new(&dir).expect_err("insecure");
    assert!(matches!(error, OutboxError::InsecureDirectory { mode: 0o755, .. }), "{error:?}");
    assert!(error.to_string().contains("chmod 700"), "{error}");

    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
    Outbox::new(&dir).expect("private existing folder is fine");
}

#[test]
fn a_file_in_the_way_is_an_error() {
    let root = tempfile::tempdir().expect("tempdir");
    let path = root.path().join("not-a-dir");
    fs::write(&path, "x").expect("write");
    let error = Outbox::new(&path).expect_err("file in the way");
    assert!(error.to_string().contains("not-a-dir"), "{error}");
}
