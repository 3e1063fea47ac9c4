//! `deploy/replicas/` (README "Running replicas"), checked without a Docker daemon: every replica
//! reads the same configuration and the same database, the configuration is one the service
//! accepts, no secret is written into the files, and the proxy keeps what signed requests need.

use std::path::PathBuf;

use serde_yaml::Value;
use smartag_service::config::Config;

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/replicas")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(folder().join(name)).unwrap_or_else(|e| panic!("read deploy/replicas/{name}: {e}"))
}

fn compose() -> Value {
    let mut compose: Value = serde_yaml::from_str(&read("compose.yaml")).expect("compose.yaml is YAML");
    compose.apply_merge().expect("compose.yaml's merge keys resolve");
    compose
}

fn replicas(compose: &Value) -> Vec<(String, Value)> {
    let services = compose["services"].as_mapping().expect("services");
    services
        .iter()
        .filter_map(|(name, service)| {
            let name = name.as_str()?.to_owned();
            name.starts_with("replica-").then(|| (name, service.clone()))
        })
        .collect()
}

#[test]
fn every_replica_reads_the_same_configuration_and_database() {
    let compose = compose();
    let replicas = replicas(&compose);
    assert!(replicas.len() >= 2, "the example runs at least two replicas");
    let first = &replicas[0].1;
    for (name, replica) in &replicas {
        assert_eq!(replica["build"], first["build"], "{name}: the same image");
        assert_eq!(replica["environment"], first["environment"], "{name}: the same environment");
        let url = replica["environment"]["DATABASE_URL"].as_str().unwrap_or_default();
        assert!(url.starts_with("postgres://") && url.contains("@postgres:5432/"), "{name}: {url}");
        assert!(url.contains("${SMARTAG_PG_PASSWORD"), "{name}: the password comes from .env, not the file");
        assert_eq!(
            replica["depends_on"]["postgres"]["condition"].as_str(),
            Some("service_healthy"),
            "{name}: starts once PostgreSQL answers"
        );
        let volumes: Vec<&str> =
            replica["volumes"].as_sequence().expect("volumes").iter().filter_map(Value::as_str).collect();
        assert!(volumes.contains(&"./smartag.toml:/config/smartag.toml:ro"), "{name}: the shared config");
        assert!(volumes.iter().any(|v| v.ends_with(":/data")), "{name}: its own data volume (its outbox)");
    }
    let data: Vec<_> = replicas
        .iter()
        .map(|(_, r)| {
            r["volumes"].as_sequence().expect("volumes").iter().find_map(|v| v.as_str()?.strip_suffix(":/data"))
        })
        .collect();
    let distinct: std::collections::HashSet<_> = data.iter().collect();
    assert_eq!(distinct.len(), data.len(), "each replica its own data volume");
    assert!(compose["services"]["postgres"]["healthcheck"].is_mapping(), "PostgreSQL has a health check");
}

#[test]
fn the_shared_configuration_is_one_the_service_accepts() {
    // As each replica loads it: the file, with the access key of `.env` from the environment.
    let env = |name: &str| match name {
        "SMARTAG_ACCESS_KEY_ID" => Some("my-access-key-id".into()),
        "SMARTAG_ACCESS_KEY_SECRET" => Some("a-secret-from-env".into()),
        _ => None,
    };
    let config = Config::from_sources(Some(&folder().join("smartag.toml")), env).expect("smartag.toml loads");
    assert!(!config.instances().is_empty(), "it configures instances");
    assert_eq!(config.access_keys().len(), 1, "the key of the environment");
    assert!(!config.has_demo_credentials(), "no demo key for a networked deployment");
    // Without the environment's key the same file is refused, saying what is missing.
    let error = Config::from_sources(Some(&folder().join("smartag.toml")), |_| None).expect_err("no key at all");
    assert!(error.to_string().contains("access_keys") || format!("{error:?}").contains("access_keys"), "{error:?}");
}

#[test]
fn no_secret_is_committed_and_env_stays_out_of_git() {
    for name in ["compose.yaml", "nginx.conf", "smartag.toml"] {
        let text = read(name);
        assert!(!text.contains("change-me"), "{name} holds a placeholder secret; it belongs in .env");
        assert!(!text.to_lowercase().contains("secret ="), "{name} holds a secret");
    }
    let ignored = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.gitignore"))
        .expect("read .gitignore");
    assert!(ignored.lines().any(|l| l.trim() == ".env"), ".env (the real secrets) is ignored by git");
}

#[test]
fn the_proxy_passes_the_signed_host_and_never_resends_a_create() {
    let nginx = read("nginx.conf");
    let directives: Vec<&str> = nginx.lines().map(str::trim).filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert!(directives.contains(&"proxy_set_header Host $http_host;"), "signature v3 signs the host header");
    assert!(
        !directives.iter().any(|d| d.contains("non_idempotent")),
        "a Create sent once is never re-sent by the proxy"
    );
    let compose = compose();
    for (name, _) in replicas(&compose) {
        assert!(directives.contains(&format!("server {name}:8080 max_fails=1 fail_timeout=5s;").as_str()), "{name}");
    }
}
