//! What both servers answer and every driver asks: one instance, one page of ten users, one key.

/// The region of the one instance.
pub const REGION: &str = "cn-shanghai";
/// The one instance.
pub const INSTANCE: &str = "sag-bench";
/// The operation measured.
pub const ACTION: &str = "DescribeSmartAccessGatewayClientUsers";
/// The API version accepted.
pub const VERSION: &str = "2018-03-13";
/// The AccessKeyId both servers know when authentication is on.
pub const ACCESS_KEY_ID: &str = "benchid";
/// Its secret.
pub const ACCESS_KEY_SECRET: &str = "benchsecret";
/// The users on the page (and in the instance).
pub const USERS: usize = 10;
/// The `HostId` of error answers.
pub const HOST_ID: &str = "smartag.aliyuncs.com";
/// Nonces both bench servers remember (they accept each once). A row keeps one server for all
/// its rounds of both sides, and a fast one (the client's version 3 at 32 concurrent calls,
/// ~36,000 calls/s on a quiet machine, 10 windows of 3 s plus warm-ups) sends more than the
/// default million within the 15-minute replay window; four million leave room.
pub const NONCE_CAPACITY: usize = 4_000_000;
/// The operation parameters of every measured request (names as sent).
pub const QUERY: [(&str, &str); 4] =
    [("RegionId", REGION), ("SmartAGId", INSTANCE), ("PageNumber", "1"), ("PageSize", "10")];

/// One user of the fixed page, in plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedUser {
    /// `UserName`.
    pub user_name: String,
    /// `UserMail`.
    pub user_mail: String,
    /// `Bandwidth`, Kbit/s.
    pub bandwidth: i64,
    /// `ClientIp`.
    pub client_ip: String,
    /// `State`.
    pub state: i32,
    /// `AccelerateBandwidth`.
    pub accelerate_bandwidth: i64,
    /// `IsStaticIp`.
    pub is_static_ip: i64,
}

/// The fixed page both servers answer.
pub fn users() -> Vec<FixedUser> {
    (0..USERS)
        .map(|i| FixedUser {
            user_name: format!("bench-user-{i:02}"),
            user_mail: format!("bench-user-{i:02}@example.com"),
            bandwidth: 2000 + i as i64,
            client_ip: format!("10.10.0.{}", i + 2),
            state: 0,
            accelerate_bandwidth: 0,
            is_static_ip: i64::from(i % 2 == 0),
        })
        .collect()
}
