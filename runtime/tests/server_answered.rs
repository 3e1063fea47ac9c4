//! What the router hands to the layers around it: the `Answered` extension on every response
//! (RequestId, Action named, code answered), and the extra headers an operation's error carries
//! (`x-acs-retry-after`).
#![cfg(feature = "server")]

mod server_support;

use alibaba_rpc_runtime::server::{Answered, REQUEST_ID_HEADER, RETRY_AFTER_HEADER};
use axum::body::Body;
use axum::http::{Request, Response};
use server_support::*;
use tower::ServiceExt as _;

async fn answer(request: Request<Body>) -> Response<Body> {
    match app().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn answered(response: &Response<Body>) -> Answered {
    let answered = response.extensions().get::<Answered>().cloned().expect("every response carries Answered");
    let header = response.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok());
    assert_eq!(Some(&*answered.request_id), header, "the RequestId answered");
    answered
}

#[tokio::test]
async fn answered_names_the_action_and_the_code() {
    let ok = answer(sdk_post(&signed("POST", SECRET, echo_params("alice")))).await;
    let a = answered(&ok);
    assert_eq!((a.action.as_deref(), a.code), (Some("Echo"), None));

    let taken = answer(sdk_post(&signed("POST", SECRET, echo_params("taken")))).await;
    assert_eq!(answered(&taken).code, Some("Echo.NameTaken"));

    let internal = answer(sdk_post(&signed("POST", SECRET, echo_params("boom")))).await;
    assert_eq!(answered(&internal).code, Some("InternalError"));

    let bad_signature = answer(sdk_post(&signed("POST", "wrong-secret", echo_params("alice")))).await;
    let a = answered(&bad_signature);
    assert_eq!((a.action.as_deref(), a.code), (Some("Echo"), Some("SignatureDoesNotMatch")), "named, not verified");

    let mut unknown = echo_params("alice");
    set(&mut unknown, "Action", "NoSuchThing");
    let a = answered(&answer(sdk_post(&signed("POST", SECRET, unknown))).await);
    assert_eq!((a.action.as_deref(), a.code), (Some("NoSuchThing"), Some("InvalidAction.NotFound")));

    let mut missing = echo_params("alice");
    remove(&mut missing, "Action");
    let a = answered(&answer(sdk_post(&signed("POST", SECRET, missing))).await);
    assert_eq!((a.action, a.code), (None, Some("MissingParameter")));

    // Text that is not a plain token is never passed on.
    let mut odd = echo_params("alice");
    set(&mut odd, "Action", "Echo<script>");
    let a = answered(&answer(sdk_post(&signed("POST", SECRET, odd))).await);
    assert_eq!((a.action, a.code), (None, Some("InvalidAction.NotFound")));
}

#[tokio::test]
async fn an_error_carries_its_extra_headers_and_an_internal_error_none() {
    let busy = answer(sdk_post(&signed("POST", SECRET, echo_params("busy")))).await;
    assert_eq!(busy.status().as_u16(), 409);
    assert_eq!(busy.headers().get(RETRY_AFTER_HEADER).and_then(|v| v.to_str().ok()), Some("1500"));
    assert!(busy.headers().get(REQUEST_ID_HEADER).is_some());
    assert_eq!(answered(&busy).code, Some("Echo.NameTaken"));

    let plain = answer(sdk_post(&signed("POST", SECRET, echo_params("taken")))).await;
    assert!(plain.headers().get(RETRY_AFTER_HEADER).is_none());

    let internal = answer(sdk_post(&signed("POST", SECRET, echo_params("boom-with-header")))).await;
    assert_eq!(internal.status().as_u16(), 500);
    assert!(internal.headers().get(RETRY_AFTER_HEADER).is_none(), "an internal error discloses nothing");
}
