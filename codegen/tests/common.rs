//! A small valid spec that the tests break one way at a time.

/// A minimal spec: one error, one shape and one paged operation.
pub const BASE: &str = r#"service:
  product: Demo
  version: "2020-01-01"
  protocol: rpc
  endpoint: "https://demo.{region}.example.com"
  host_id: demo.example.com
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
