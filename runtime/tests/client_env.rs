//! `Credentials::from_env` and the builder's default credentials. One test function, because it
//! changes the process environment.
#![cfg(feature = "client")]

mod client_support;

use alibaba_rpc_runtime::client::{
    ClientConfig, ConfigError, Credentials, ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SECURITY_TOKEN,
    ProvideCredentials,
};
use client_support::SERVICE;

fn set(name: &str, value: Option<&str>) {
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

#[test]
fn from_env() {
    set(ENV_ACCESS_KEY_ID, None);
    set(ENV_ACCESS_KEY_SECRET, None);
    set(ENV_SECURITY_TOKEN, None);
    let err = Credentials::from_env().unwrap_err();
    assert!(matches!(err, ConfigError::MissingEnv { var } if var == ENV_ACCESS_KEY_ID));
    assert!(err.to_string().contains("ALIBABA_CLOUD_ACCESS_KEY_ID"), "{err}");

    // The builder falls back to the environment and reports the same.
    let err = ClientConfig::builder(&SERVICE).region("cn-shanghai").build().unwrap_err();
    assert!(matches!(err, ConfigError::MissingEnv { .. }), "{err}");

    set(ENV_ACCESS_KEY_ID, Some("env-id"));
    let err = Credentials::from_env().unwrap_err();
    assert!(matches!(err, ConfigError::MissingEnv { var } if var == ENV_ACCESS_KEY_SECRET));

    set(ENV_ACCESS_KEY_SECRET, Some("env-secret"));
    let creds = Credentials::from_env().unwrap();
    assert_eq!(creds.access_key_id, "env-id");
    assert_eq!(creds.access_key_secret.expose(), "env-secret");
    assert!(creds.security_token.is_none());

    set(ENV_SECURITY_TOKEN, Some("env-token"));
    let creds = Credentials::from_env().unwrap();
    assert_eq!(creds.security_token.as_ref().map(|t| t.expose()), Some("env-token"));
    let shown = format!("{creds:?}");
    assert!(!shown.contains("env-secret") && !shown.contains("env-token"), "{shown}");

    let config = ClientConfig::builder(&SERVICE).region("cn-shanghai").build().unwrap();
    let provided = futures::executor::block_on(config.credentials().provide_credentials()).unwrap();
    assert_eq!(provided.access_key_id, "env-id");

    // A stray newline from `echo secret > file` is reported, not trimmed.
    set(ENV_ACCESS_KEY_SECRET, Some("env-secret\n"));
    let err = Credentials::from_env().unwrap_err();
    assert!(matches!(err, ConfigError::CredentialWhitespace { field: "access key secret" }));
    assert!(err.to_string().contains("SignatureDoesNotMatch"), "{err}");

    set(ENV_ACCESS_KEY_ID, None);
    set(ENV_ACCESS_KEY_SECRET, None);
    set(ENV_SECURITY_TOKEN, None);
}
