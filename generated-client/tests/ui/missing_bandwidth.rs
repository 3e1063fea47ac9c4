use smartag_client::CreateSmartAccessGatewayClientUserRequest;

fn main() {
    let _request = CreateSmartAccessGatewayClientUserRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id("sag-demo")
        .user_mail("a@example.com")
        .build();
}
