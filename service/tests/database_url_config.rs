//! `database_url` in the config file and `DATABASE_URL` select PostgreSQL; the URL's password is
//! never in the configuration's `Debug` output.

use std::ffi::OsString;

use smartag_service::config::Config;

const FILE: &str = r#"
database_url = "postgres://smartag:file-secret-1@db:5432/smartag"

[[access_keys]]
id = "k"
secret = "s3cr3t-value"

[[instances]]
region = "cn-shanghai"
id = "sag-1"
cidr = "10.0.0.0/24"
"#;

#[test]
fn the_file_key_and_the_variable_select_postgres_and_the_password_stays_hidden() {
    let config = Config::parse(FILE, "smartag.toml").expect("valid");
    let url = config.database_url().expect("database_url");
    assert_eq!(url.expose(), "postgres://smartag:file-secret-1@db:5432/smartag");
    assert_eq!(url.to_string(), "postgres://smartag:***@db:5432/smartag");
    assert!(!format!("{config:?}").contains("file-secret-1"), "{config:?}");

    let env = |name: &str| -> Option<OsString> {
        (name == "DATABASE_URL").then(|| OsString::from("postgres://other:env-secret-2@db2/smartag"))
    };
    let config = config.with_env(env).expect("valid variables");
    let url = config.database_url().expect("database_url");
    assert_eq!(url.expose(), "postgres://other:env-secret-2@db2/smartag", "the variable wins over the file");
    assert!(!format!("{config:?}").contains("env-secret-2"));

    let without = Config::parse(&FILE.replace("database_url", "# database_url"), "smartag.toml").expect("valid");
    assert!(without.database_url().is_none(), "without it: SQLite");
}
