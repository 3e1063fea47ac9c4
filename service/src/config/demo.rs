//! The built-in demo configuration: its public access key, its TOML text and [`Config::demo`].

use super::Config;

/// The access key id of the demo configuration (the one the protocol's test vectors use).
pub const DEMO_ACCESS_KEY_ID: &str = "testid";

/// The access key secret of the demo configuration (public knowledge: never expose it beyond
/// loopback).
pub const DEMO_ACCESS_KEY_SECRET: &str = "testsecret";

/// The `[[instances]]` tables of the demo configuration, written once for [`DEMO_CONFIG_TOML`] and
/// [`DEMO_INSTANCES_TOML`].
macro_rules! demo_instances {
    () => {
        r#"[[instances]]
region = "cn-shanghai"
id = "sag-demo"
cidr = "10.10.0.0/24"
max_users = 100

# No CIDR block: Create answers SAG.CidrEmpty.
[[instances]]
region = "cn-shanghai"
id = "sag-nocidr"

[[instances]]
region = "cn-hangzhou"
id = "sag-demo-hz"
cidr = "10.20.0.0/24"
max_users = 5
"#
    };
}

/// The demo configuration as a TOML file, equal to [`Config::demo`]; a starting point for a real
/// configuration (replace the access key).
pub const DEMO_CONFIG_TOML: &str = concat!(
    r#"# Demo configuration of the Smartag client-user service.
# The access key below is public: serve it on a loopback address only.
listen = "127.0.0.1:8080"

[[access_keys]]
id = "testid"
secret = "testsecret"

"#,
    demo_instances!()
);

/// The instances of the demo configuration alone, as TOML `[[instances]]` tables (what
/// [`crate::local::LocalService::start`] serves).
pub const DEMO_INSTANCES_TOML: &str = demo_instances!();

impl Config {
    /// The built-in demo configuration ([`DEMO_CONFIG_TOML`]): access key `testid`/`testsecret`;
    /// instances `cn-shanghai`/`sag-demo` (`10.10.0.0/24`, 100 users), `cn-shanghai`/`sag-nocidr`
    /// (no CIDR block) and `cn-hangzhou`/`sag-demo-hz` (`10.20.0.0/24`, 5 users).
    ///
    /// [`Config::is_demo`] is true for it.
    pub fn demo() -> Config {
        match Config::parse(DEMO_CONFIG_TOML, "<built-in demo configuration>") {
            Ok(config) => Config { demo: true, ..config },
            // DEMO_CONFIG_TOML is a constant, and a unit test proves that it parses.
            Err(e) => unreachable!("the built-in demo configuration is invalid: {e}"),
        }
    }

    /// Whether this is the built-in [`Config::demo`] configuration.
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// Whether any access key is the public demo key (id [`DEMO_ACCESS_KEY_ID`] or secret
    /// [`DEMO_ACCESS_KEY_SECRET`]), whether it came from [`Config::demo`] or from a file. The
    /// service should refuse to listen on a non-loopback address when this is true.
    pub fn has_demo_credentials(&self) -> bool {
        self.access_keys.iter().any(|key| key.id == DEMO_ACCESS_KEY_ID || key.secret.expose() == DEMO_ACCESS_KEY_SECRET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_LISTEN, Secret};

    #[test]
    fn demo_is_the_demo_toml() {
        let demo = Config::demo();
        assert!(demo.is_demo());
        assert_eq!(demo.instances().len(), 3);
        assert_eq!(demo.listen(), Some(DEFAULT_LISTEN));
        assert_eq!(demo.secret_for(DEMO_ACCESS_KEY_ID).map(Secret::expose), Some(DEMO_ACCESS_KEY_SECRET));
        let parsed = Config::parse(DEMO_CONFIG_TOML, "demo.toml").map(|c| Config { demo: true, ..c });
        assert_eq!(parsed.ok(), Some(demo));
    }
}
