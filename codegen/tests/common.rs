//! A small valid spec that the tests break one way at a time.

/// A minimal spec with every protocol role, one error, one shape and one paged operation.
pub const BASE: &str = r#"service:
  product: Demo
  version: "2020-01-01"
  protocol: rpc
  endpoint: "https://demo.{region}.example.com"
  host_id: demo.example.com
protocol_errors:
  - { code: MissingParameter, status: 400, role: missing_parameter, message: 'The input parameter "{param}" is missing.' }
  - { code: InvalidParameter, status: 400, role: invalid_parameter, message: 'The parameter "{param}" is invalid.' }
  - { code: SignatureDoesNotMatch, status: 400, role: signature_does_not_match, message: "server string to sign is:{string_to_sign}" }
  - { code: InvalidAccessKeyId.NotFound, status: 404, role: invalid_access_key_id, message: not found }
  - { code: SignatureNonceUsed, status: 400, role: signature_nonce_used, message: used }
  - { code: InvalidTimeStamp.Expired, status: 400, role: invalid_timestamp_expired, message: expired }
  - { code: InvalidTimeStamp.Format, status: 400, role: invalid_timestamp_format, message: format }
  - { code: InvalidAction.NotFound, status: 404, role: invalid_action, message: no action }
  - { code: InvalidVersion, status: 400, role: invalid_version, message: version }
  - { code: RequestTooLarge, status: 413, role: request_too_large, message: too large }
  - { code: ServiceUnavailable, status: 503, role: request_timeout, retryable: true, message: unavailable }
  - { code: Throttling, status: 400, role: throttling, retryable: true, message: throttled }
  - { code: InternalError, status: 500, role: internal_error, retryable: true, message: internal }
  - { code: IncompleteSignature, status: 400, role: incomplete_signature, message: "bad signature {reason}" }
  - { code: MissingSecurityToken, status: 400, role: missing_security_token, message: "no token ({param})" }
  - { code: InvalidSecurityToken.MismatchWithAccessKey, status: 400, role: invalid_security_token, message: "wrong token ({param})" }
errors:
  - { code: Thing.SizeInvalid, status: 400, message: The size is invalid. }
shapes:
  - name: Thing
    element: Thing
    fields:
      - { name: Size, type: int64, required: true }
operations:
  - name: ListThings
    summary: Lists things.
    idempotent: true
    parameters:
      - name: Size
        type: int64
        constraints:
          - range: { min: 1, max: 10 }
            error: Thing.SizeInvalid
      - name: PageNumber
        type: int32
        default: 1
      - name: PageSize
        type: int32
        default: 10
        constraints:
          - range: { min: 1, max: 50 }
            error: InvalidParameter
    response:
      - { name: TotalCount, type: int32, required: true }
      - { name: Things, type: list<Thing> }
    pagination:
      page_number: PageNumber
      page_size: PageSize
      total_count: TotalCount
      items: Things
    errors:
      - Thing.SizeInvalid
generation:
  runtime_crate: demo_runtime
  model_crate: demo_model
  client_crate: demo_client
  output: { model: model/src, client: client/src, server: server/src }
"#;

#[allow(dead_code)] // used by some of the test binaries that include this module
/// `BASE` with the first occurrence of `from` replaced by `to` (which must exist).
pub fn mutate(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "the base spec has no `{from}`");
    BASE.replacen(from, to, 1)
}
