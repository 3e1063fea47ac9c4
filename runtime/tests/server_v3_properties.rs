//! Properties of signature version 3 at the router: whatever the parameter values (empty,
//! unicode, reserved characters), a correctly signed request is accepted with its values intact,
//! and changing any signed byte — a query value, a signed header, the body — is refused.
#![cfg(feature = "server")]

mod server_support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use server_support::*;

/// Where to change one byte.
#[derive(Debug, Clone)]
enum Tamper {
    QueryValue(usize),
    Header(usize),
    Body(usize),
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn signed_requests_round_trip(name in "[A-Za-z0-9][ -~]{0,20}", password in any_value(), extra in any_value(), in_body in any::<bool>()) {
        let rt = runtime();
        let params = vec![
            ("Name".to_owned(), name.clone()),
            ("Password".to_owned(), password),
            ("Extra".to_owned(), extra),
        ];
        let mut r = V3::echo(&name);
        r.query = vec![("RegionId".to_owned(), "cn-shanghai".to_owned())];
        if in_body {
            r = r.form(&params);
        } else {
            r.query.extend(params);
        }
        let a = rt.block_on(send(&app(), r.request()));
        prop_assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let json = a.json();
        prop_assert_eq!(json["Name"].as_str(), Some(name.as_str()));
    }

    #[test]
    fn any_changed_signed_byte_is_refused(
        value in "[a-z]{1,12}",
        body_value in "[a-z]{1,12}",
        at in any::<prop::sample::Index>(),
        which in 0..3u8,
    ) {
        let rt = runtime();
        let mut r = V3::echo("x").form(&[("Count".to_owned(), "1".to_owned()), ("Extra".to_owned(), body_value)]);
        r.query.push(("Other".to_owned(), value));
        let (parts, _) = r.request().into_parts();
        let tamper = match which {
            0 => Tamper::QueryValue(at.index(r.query.len())),
            1 => Tamper::Header(at.index(r.all_headers().len())),
            _ => Tamper::Body(at.index(r.body.len())),
        };
        let mut body = r.body.clone();
        let mut request = Request::from_parts(parts, Body::empty());
        match tamper {
            Tamper::QueryValue(i) => {
                let mut query = r.query.clone();
                query[i].1.push('z');
                *request.uri_mut() = format!("/?{}", encode(&query)).parse().unwrap_or_default();
            }
            Tamper::Header(i) => {
                let (name, value) = r.all_headers()[i].clone();
                let changed = format!("{value}0");
                if let (Ok(name), Ok(changed)) =
                    (axum::http::HeaderName::try_from(name), axum::http::HeaderValue::try_from(changed))
                {
                    request.headers_mut().insert(name, changed);
                }
            }
            Tamper::Body(i) => body[i] ^= 0x01,
        }
        *request.body_mut() = Body::from(body);
        let a = rt.block_on(send(&app(), request));
        prop_assert!(a.status.is_client_error(), "{:?} accepted: {}", tamper, a.text);
        prop_assert!(
            ["SignatureDoesNotMatch", "IncompleteSignature", "InvalidTimeStamp.Format", "InvalidTimeStamp.Expired",
             "InvalidAction.NotFound", "InvalidVersion", "InvalidParameter"].contains(&a.code().as_str()),
            "{:?}: {}", tamper, a.text
        );
    }
}
