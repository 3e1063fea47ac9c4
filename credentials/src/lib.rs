//! Where an Alibaba Cloud client gets its credentials: the **default credential chain** of the
//! official SDKs, for any client built on `alibaba-rpc-runtime` (the generated `smartag-client`,
//! the STS client, …).
//!
//! [`DefaultChain`] tries, in order, the environment, an OIDC role (STS `AssumeRoleWithOIDC`), the
//! aliyun CLI's `~/.aliyun/config.json`, the credentials file `~/.alibabacloud/credentials`, and
//! the ECS instance's RAM role; see there. Every source is also usable on its own
//! ([`EnvironmentProvider`], [`OidcRoleProvider`], [`RamRoleArnProvider`], [`EcsRoleProvider`]).
//! Temporary credentials are cached and refreshed 3 minutes ([`REFRESH_BEFORE_EXPIRY`]) before
//! they expire, one refresh at a time however many requests wait for them.
//!
//! STS is called through the client generated from `spec/sts.yaml` by this workspace's own
//! generator (`alibaba-sts-client`).
//!
//! Plug it into a client with `credentials_provider`:
//!
//! ```no_run
//! use alibaba_credentials::DefaultChain;
//! use alibaba_rpc_runtime::client::{ClientConfig, RpcClient};
//! # use alibaba_rpc_runtime::operation::ServiceInfo;
//! # static SERVICE: ServiceInfo = ServiceInfo { product: "Ecs", version: "2014-05-26", endpoint_pattern: "https://ecs.{region}.aliyuncs.com" };
//!
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ClientConfig::builder(&SERVICE)
//!     .region("cn-shanghai")
//!     .credentials_provider(DefaultChain::new())
//!     .build()?;
//! let client = RpcClient::new(config)?;
//! # Ok(()) }
//! ```
//!
//! Errors ([`CredentialsError`]) name the file, profile or variable at fault (and the line, for a
//! malformed credentials file); no secret or token ever appears in an error, a log or `Debug`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cache;
mod chain;
mod cli_config;
mod ecs;
pub mod env;
mod environment;
mod ini;
mod profile_file;
mod settings;
mod sts;

pub use alibaba_rpc_runtime::client::{
    Credentials, CredentialsError, CredentialsErrorKind, ProvideCredentials, ProvideCredentialsFuture,
};
pub use cache::REFRESH_BEFORE_EXPIRY;
pub use chain::{DefaultChain, DefaultChainBuilder};
pub use ecs::{DEFAULT_METADATA_ENDPOINT, EcsRoleProvider, TOKEN_HEADER, TOKEN_TTL_HEADER};
pub use env::Env;
pub use environment::EnvironmentProvider;
pub use sts::{DEFAULT_DURATION_SECONDS, OidcRoleProvider, RamRoleArnProvider, StsEndpoint};
