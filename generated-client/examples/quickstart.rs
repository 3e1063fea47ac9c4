//! Creates, modifies and lists client users against a running service.
//!
//! ```sh
//! cargo run --release -p smartag-service            # in one terminal
//! cargo run -p smartag-client --example quickstart  # in another
//! ```
//!
//! `SMARTAG_ENDPOINT` (default `http://127.0.0.1:8080`) picks the server; credentials come from
//! `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, or the demo key.

use smartag_client::{
    Client, CreateSmartAccessGatewayClientUserRequest, Credentials, DescribeSmartAccessGatewayClientUsersRequest,
    ModifySmartAccessGatewayClientUserRequest,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::var("SMARTAG_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:8080".to_string());
    let credentials = Credentials::from_env().unwrap_or_else(|_| Credentials::new("testid", "testsecret"));
    let client = Client::new(
        Client::config_builder().region("cn-shanghai").endpoint(endpoint).credentials(credentials).build()?,
    )?;

    let suffix = std::process::id();
    let name = format!("demo{suffix}");
    let create = CreateSmartAccessGatewayClientUserRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id("sag-demo")
        .user_mail(format!("{name}@example.com"))
        .bandwidth(200)
        .user_name(name.clone())
        .password("Demo-Passw0rd")
        .build();
    match client.create_smart_access_gateway_client_user(&create).await {
        Ok(created) => println!("created {} with address {:?}", created.user_name, created.client_ip),
        Err(e) => {
            eprintln!("create failed: {e}");
            if let Some(api) = e.api_error() {
                eprintln!("  code {} (HTTP {}), request id {}", api.code, api.status, api.request_id);
            }
            return Err(e.into());
        }
    }

    let modify = ModifySmartAccessGatewayClientUserRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id("sag-demo")
        .user_name(name.clone())
        .bandwidth(500)
        .user_mail(format!("{name}@example.org"))
        .build();
    let modified = client.modify_smart_access_gateway_client_user(&modify).await?;
    println!("modified {}: {} Kbit/s, {}", modified.user_name, modified.bandwidth, modified.user_mail);

    let list = DescribeSmartAccessGatewayClientUsersRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id("sag-demo")
        .build();
    let users = client.describe_smart_access_gateway_client_users_all(list).await?;
    println!("{} users on sag-demo:", users.len());
    for u in users {
        println!(
            "  {:<24} {:<32} {:>5} Kbit/s  {}",
            u.user_name,
            u.user_mail,
            u.bandwidth,
            u.client_ip.unwrap_or_default()
        );
    }
    Ok(())
}
