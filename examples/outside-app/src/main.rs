//! Lists the client accounts of a SAG APP instance, as an application outside this repository
//! would: credentials from the environment, the region's public endpoint (or `SMARTAG_ENDPOINT`).
//!
//! ```sh
//! export ALIBABA_CLOUD_ACCESS_KEY_ID=… ALIBABA_CLOUD_ACCESS_KEY_SECRET=…
//! cargo run --manifest-path examples/outside-app/Cargo.toml -- cn-shanghai sag-xxxxxxxx
//! ```

use smartag_client::{Client, Credentials, DescribeSmartAccessGatewayClientUsersRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(region), Some(instance)) = (args.next(), args.next()) else {
        return Err(
            "usage: outside-app <region> <smart-ag-id>   (credentials from ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET)"
                .into(),
        );
    };
    let mut config = Client::config_builder().region(region.as_str()).credentials(Credentials::from_env()?);
    if let Ok(endpoint) = std::env::var("SMARTAG_ENDPOINT") {
        config = config.endpoint(endpoint);
    }
    let client = Client::new(config.build()?)?;
    let request =
        DescribeSmartAccessGatewayClientUsersRequest::builder().region_id(region).smart_ag_id(instance).build();
    let page = client.describe_smart_access_gateway_client_users(&request).await?;
    println!("{} client accounts (RequestId {})", page.total_count, page.request_id);
    for user in page.users {
        println!(
            "{}\t{}\t{} Kbit/s\t{}",
            user.user_name,
            user.user_mail,
            user.bandwidth,
            user.client_ip.unwrap_or_default()
        );
    }
    Ok(())
}
