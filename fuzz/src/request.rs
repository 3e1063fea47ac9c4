//! A request built from an input: raw bytes, or a request signed with version 1.0 or 3 from
//! dictionaries of names and hostile values, possibly tampered with.

use alibaba_rpc_runtime::encoding::percent_encode;
use alibaba_rpc_runtime::params::Params;
use alibaba_rpc_runtime::signature::{self, format_timestamp, v1, v3};
use axum::body::Body;
use axum::http::{Method, Request};
use time::OffsetDateTime;

use crate::{KEY_ID, SECRET};

/// A byte reader that never fails: past the end it reads zeros.
pub(crate) struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// A reader of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Input { bytes }
    }

    fn u8(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((b, rest)) => {
                self.bytes = rest;
                *b
            }
            None => 0,
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::from(self.u8()) % items.len()]
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.bytes.len());
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        head
    }

    fn len(&mut self, max: usize) -> usize {
        (usize::from(self.u8()) << 8 | usize::from(self.u8())) % (max + 1)
    }
}

const METHODS: &[&str] = &["POST", "GET", "PUT", "DELETE"];
const ACTIONS: &[&str] = &[
    "CreateSmartAccessGatewayClientUser",
    "ModifySmartAccessGatewayClientUser",
    "DescribeSmartAccessGatewayClientUsers",
    "DescribeRegions",
    "",
];
const NAMES: &[&str] = &[
    "RegionId",
    "SmartAGId",
    "UserMail",
    "Bandwidth",
    "UserName",
    "Password",
    "ClientIp",
    "Email",
    "PageNumber",
    "PageSize",
    "OwnerId",
    "ResourceOwnerId",
    "OwnerAccount",
    "ResourceOwnerAccount",
    "Format",
    "Action",
    "Version",
    "Signature",
    "SignatureNonce",
    "Timestamp",
    "AccessKeyId",
    "SecurityToken",
];
const VALUES: &[&str] = &[
    "cn-shanghai",
    "sag-demo",
    "alice@example.com",
    "alice01x",
    "Passw0rd-1",
    "10.10.0.7",
    "192.168.1.1",
    "8.8.8.8",
    "20",
    "2000",
    "2001",
    "0",
    "-1",
    "+5",
    "007",
    " 5",
    "1e3",
    "١٢",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "2147483648",
    "",
    "XML",
    "JSON",
    "xml",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "a\0b",
    "line\nbreak",
    "${jndi:ldap://x/a}",
    "%ZZ",
    "\u{FFFD}",
    "a@b.c",
    "CreateSmartAccessGatewayClientUser",
    "2018-03-13",
];
const HEADERS: &[&str] = &[
    "authorization",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "x-acs-security-token",
    "content-type",
    "host",
    "content-length",
];
const HEADER_VALUES: &[&str] = &[
    "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action,Signature=00",
    "ACS3-HMAC-SHA256 ",
    "ACS3-HMAC-SHA256 Credential=,SignedHeaders=,Signature=",
    "ACS3-HMAC-SHA256 Credential=testid,,Signature=zz,SignedHeaders=HOST;;x-acs-date",
    "ACS3-HMAC-SM3 Credential=testid,SignedHeaders=host;x-acs-action,Signature=00",
    "ACS3-RSA-SHA256 Credential=testid,SignedHeaders=host,Signature=00",
    "CreateSmartAccessGatewayClientUser",
    "2018-03-13",
    "2026-11-23T01:09:05Z",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "text/plain",
    v3::EMPTY_BODY_SHA256,
    v3::EMPTY_BODY_SM3,
    "",
    "  ",
];

/// One value: from the dictionary, a long repetition, or raw bytes (lossy text).
fn value(input: &mut Input<'_>) -> String {
    match input.u8() % 8 {
        0 => {
            let n = input.len(70_000);
            "a".repeat(n)
        }
        1 | 2 => {
            let n = input.len(40);
            String::from_utf8_lossy(input.take(n)).into_owned()
        }
        _ => input.pick(VALUES).to_owned(),
    }
}

/// Raw bytes made safe for a URI (everything but a few characters escaped).
fn uri_safe(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"=&%+.-_~".contains(b) {
                (*b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A request built from `input`, and the pieces the direct checks look at.
pub(crate) struct Built {
    pub(crate) request: Request<Body>,
    pub(crate) params: Params,
    pub(crate) authorization: Option<String>,
}

/// The request `input` describes: its first byte picks raw bytes (modes 0 and 3), version 1.0
/// (mode 1) or version 3 (mode 2), signed at `now` with nonce number `nonce`.
pub(crate) fn build(input: &mut Input<'_>, now: OffsetDateTime, nonce: u64) -> Built {
    let mode = input.u8() % 4;
    let method = input.pick(METHODS);
    let mut headers: Vec<(String, String)> = Vec::new();
    let (query, body, form) = if mode == 0 || mode == 3 {
        // Raw: arbitrary query bytes, headers and body.
        let n = input.len(300);
        let query = uri_safe(input.take(n));
        for _ in 0..input.u8() % 6 {
            let name = input.pick(HEADERS);
            let v = if input.u8().is_multiple_of(2) {
                input.pick(HEADER_VALUES).to_owned()
            } else {
                let n = input.len(60);
                String::from_utf8_lossy(input.take(n)).into_owned()
            };
            headers.push((name.to_owned(), v));
        }
        let n = input.len(3000);
        let body = input.take(n).to_vec();
        (query, body, input.u8().is_multiple_of(2))
    } else {
        // Structured: parameters from the dictionary, placed in the query and/or a form body,
        // signed with version 1.0 (mode 1) or 3 (mode 2), then maybe tampered with.
        let action = input.pick(ACTIONS);
        let mut in_query: Vec<(String, String)> = Vec::new();
        let mut in_body: Vec<(String, String)> = Vec::new();
        for _ in 0..input.u8() % 12 {
            let pair = (input.pick(NAMES).to_owned(), value(input));
            match input.u8() % 4 {
                0 => in_body.push(pair),
                1 => {
                    in_query.push(pair.clone());
                    in_body.push(pair);
                }
                _ => in_query.push(pair),
            }
        }
        let form = !in_body.is_empty() || input.u8().is_multiple_of(4);
        let skew = match input.u8() % 16 {
            0 => time::Duration::minutes(20),
            1 => time::Duration::minutes(-20),
            _ => time::Duration::ZERO,
        };
        let date = format_timestamp(now + skew);
        // A third of the version 3 requests sign with ACS3-HMAC-SM3, chosen by the nonce's number
        // so that an input means the same bytes it always did.
        let sm3 = nonce.is_multiple_of(3);
        let nonce = format!("fuzz{nonce:016x}");
        let body = encode(&in_body).into_bytes();
        if mode == 1 {
            let common = [
                ("Action", action),
                ("Version", "2018-03-13"),
                ("AccessKeyId", KEY_ID),
                ("SignatureMethod", "HMAC-SHA1"),
                ("SignatureVersion", "1.0"),
                ("SignatureNonce", nonce.as_str()),
                ("Timestamp", date.as_str()),
            ];
            in_query.extend(common.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            let mut all: Vec<(&str, &str)> = in_query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            if form {
                all.extend(in_body.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            }
            let sts = v1::string_to_sign(method, all);
            in_query.push(("Signature".to_owned(), v1::sign(SECRET, &sts)));
        } else {
            let algorithm = if sm3 { v3::Algorithm::HmacSm3 } else { v3::Algorithm::HmacSha256 };
            let hash = algorithm.hash_payload(&body);
            let mut signed: Vec<(&str, &str)> = vec![
                ("host", "smartag.cn-shanghai.aliyuncs.com"),
                ("x-acs-action", action),
                ("x-acs-version", "2018-03-13"),
                ("x-acs-date", date.as_str()),
                ("x-acs-signature-nonce", nonce.as_str()),
                ("x-acs-content-sha256", hash.as_str()),
            ];
            if form {
                signed.push(("content-type", "application/x-www-form-urlencoded"));
            }
            let query = signature::canonical_query(in_query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let s = v3::sign_request_with(algorithm, KEY_ID, SECRET, method, &query, &signed, &hash);
            headers.extend(signed.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            headers.push(("authorization".to_owned(), s.authorization));
        }
        let mut query = encode(&in_query);
        let mut body = body;
        // Tampering: a flipped byte in the query, the body or a header, or a dropped header.
        match input.u8() % 8 {
            0 if !query.is_empty() => {
                let at = usize::from(input.u8()) % query.len();
                let mut bytes = query.into_bytes();
                bytes[at] ^= 1 << (input.u8() % 7);
                query = uri_safe(&bytes);
            }
            1 if !body.is_empty() => {
                let at = usize::from(input.u8()) % body.len();
                body[at] ^= 1 << (input.u8() % 8);
            }
            2 if !headers.is_empty() => {
                let at = usize::from(input.u8()) % headers.len();
                headers.remove(at);
            }
            3 if !headers.is_empty() => {
                let at = usize::from(input.u8()) % headers.len();
                let extra = input.pick(HEADER_VALUES).to_owned();
                headers.push((headers[at].0.clone(), extra));
            }
            _ => {}
        }
        (query, body, form)
    };
    if form && !headers.iter().any(|(n, _)| n == "content-type") {
        headers.push(("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned()));
    }
    let mut params = Params::parse_urlencoded(query.as_bytes());
    if form {
        params.extend(Params::parse_urlencoded(&body));
    }
    let authorization = headers.iter().find(|(n, _)| n == "authorization").map(|(_, v)| v.clone());
    let mut builder = Request::builder().method(method).uri(format!("/?{query}"));
    for (name, v) in &headers {
        if let (Ok(n), Ok(v)) =
            (axum::http::HeaderName::try_from(name.as_str()), axum::http::HeaderValue::try_from(v.as_str()))
        {
            builder = builder.header(n, v);
        }
    }
    let request = builder.body(Body::from(body)).unwrap_or_else(|_| {
        // An invalid URI or header (the builder refused it): send the bare request instead.
        Request::builder().method(Method::POST).uri("/").body(Body::empty()).unwrap_or_default()
    });
    Built { request, params, authorization }
}

/// `pairs` as a form body or query, each name and value percent-encoded.
fn encode(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}
