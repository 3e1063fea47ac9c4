//! The global flags, accepted before or after the operation name, and what they configure.

use alibaba_rpc_runtime::client::{ClientConfig, RpcClient};
use alibaba_rpc_runtime::operation::ServiceInfo;
use alibaba_rpc_runtime::params::Params;
use alibaba_rpc_runtime::secret::Secret;

use crate::credentials;
use crate::exit::Failure;

/// The environment variable read for the region when `--region` is not given (the aliyun CLI's).
pub const ENV_REGION: &str = "ALIBABA_CLOUD_REGION_ID";

/// The global flags of one invocation. `Debug` never shows a secret.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `--profile`: the aliyun CLI configuration profile to take credentials and region from.
    pub profile: Option<String>,
    /// `--region`: the region whose endpoint is called.
    pub region: Option<String>,
    /// `--endpoint`: an explicit endpoint (`https://` is assumed without a scheme).
    pub endpoint: Option<String>,
    /// `--access-key-id`.
    pub access_key_id: Option<String>,
    /// `--access-key-secret`.
    pub access_key_secret: Option<Secret>,
    /// `--sts-token`: the security token of temporary (STS) credentials.
    pub sts_token: Option<Secret>,
    /// `--compact`: one line of JSON instead of pretty-printed.
    pub compact: bool,
    /// `--all-pages`: every page of a paginated operation, merged.
    pub all_pages: bool,
}

impl Settings {
    /// The region to call: `--region`, else `ALIBABA_CLOUD_REGION_ID`, else the request's own
    /// `RegionId` parameter.
    ///
    /// # Errors
    /// [`Failure::Config`] when none of them gives one.
    pub fn region(&self, params: &Params) -> Result<String, Failure> {
        if let Some(region) = self.region.as_ref().filter(|r| !r.is_empty()) {
            return Ok(region.clone());
        }
        if let Ok(region) = std::env::var(ENV_REGION)
            && !region.is_empty()
        {
            return Ok(region);
        }
        if let Some(region) = params.get("RegionId").filter(|r| !r.is_empty()) {
            return Ok(region.to_owned());
        }
        Err(Failure::Config(format!("no region: pass --region (for example --region cn-shanghai) or set {ENV_REGION}")))
    }

    /// The endpoint given, with `https://` put in front of a bare host.
    pub fn endpoint(&self) -> Option<String> {
        self.endpoint
            .as_ref()
            .filter(|e| !e.is_empty())
            .map(|e| if e.contains("://") { e.clone() } else { format!("https://{e}") })
    }

    /// A client of `service` for a request with `params`: region, endpoint and credentials
    /// resolved from the flags and the environment.
    ///
    /// # Errors
    /// [`Failure::Config`] naming what is missing or wrong.
    pub fn client(&self, service: &'static ServiceInfo, params: &Params) -> Result<RpcClient, Failure> {
        let source = credentials::resolve(self)?;
        let profile_region = match &source {
            credentials::Source::Chain(chain) => chain.region().map(str::to_owned),
            credentials::Source::Flags(_) => None,
        };
        let region = match self.region(params) {
            Ok(region) => region,
            Err(missing) => profile_region.ok_or(missing)?,
        };
        let builder = ClientConfig::builder(service).region(region);
        let mut builder = match source {
            credentials::Source::Flags(credentials) => builder.credentials(credentials),
            credentials::Source::Chain(chain) => builder.credentials_provider(chain),
        };
        if let Some(endpoint) = self.endpoint() {
            builder = builder.endpoint(endpoint);
        }
        let config = builder.build().map_err(|e| Failure::Config(e.to_string()))?;
        RpcClient::new(config).map_err(|e| Failure::Config(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_without_a_scheme_is_https() {
        let s = Settings { endpoint: Some("smartag.cn-shanghai.aliyuncs.com".into()), ..Settings::default() };
        assert_eq!(s.endpoint().as_deref(), Some("https://smartag.cn-shanghai.aliyuncs.com"));
        let s = Settings { endpoint: Some("http://127.0.0.1:8080".into()), ..Settings::default() };
        assert_eq!(s.endpoint().as_deref(), Some("http://127.0.0.1:8080"));
    }

    #[test]
    fn region_flag_wins_over_the_request() {
        let params = Params::from_pairs([("RegionId", "cn-hangzhou")]);
        let s = Settings { region: Some("cn-shanghai".into()), ..Settings::default() };
        assert_eq!(s.region(&params).ok().as_deref(), Some("cn-shanghai"));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let s = Settings { access_key_secret: Some(Secret::new("hunter2")), ..Settings::default() };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
