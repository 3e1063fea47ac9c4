//! Required parameters are enforced at compile time: leaving one out, or setting one twice, does
//! not compile; a complete request does.
//!
//! Only the failing cases go through trybuild: with nothing but `compile_fail` cases it runs
//! `cargo check`, while a single `pass` case makes it `cargo build` (code generation for the whole
//! dependency tree, in a target directory of its own). The complete request is an ordinary test
//! instead, compiled with the rest of the test suite.
//!
//! trybuild checks the dependencies once for its project and then once more for the test cases,
//! with flags that differ by `--diagnostic-width=140` (so every dependency is checked twice). Giving
//! both steps the same flags through `CARGO_ENCODED_RUSTFLAGS` (which takes precedence over the
//! `--config build.rustflags` trybuild passes) checks them once; the synthetic-spec test of the
//! code generator (`codegen/tests/synthetic.rs`) uses the same flags and target directory
//! (`<target>/tests/trybuild`), so it reuses these checked dependencies too.

use smartag_client::CreateSmartAccessGatewayClientUserRequest;

/// trybuild's own flags (`--cfg trybuild --verbose -A dead_code`) plus the `--diagnostic-width=140`
/// it adds for the test cases, separated as `CARGO_ENCODED_RUSTFLAGS` wants. Keep in step with
/// `SHARED_RUSTFLAGS` in `codegen/tests/synthetic.rs`.
const SHARED_RUSTFLAGS: &str = "--cfg\x1ftrybuild\x1f--verbose\x1f-A\x1fdead_code\x1f--diagnostic-width=140";

#[test]
fn required_parameters_are_checked_by_the_compiler() {
    // Flags of the user's own (coverage runs, for instance) are left alone.
    if std::env::var_os("RUSTFLAGS").is_none() && std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_none() {
        // SAFETY: no other test of this binary reads or writes the environment.
        unsafe { std::env::set_var("CARGO_ENCODED_RUSTFLAGS", SHARED_RUSTFLAGS) };
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/missing_bandwidth.rs");
    t.compile_fail("tests/ui/region_set_twice.rs");
}

#[test]
fn a_complete_request_compiles() {
    let request = CreateSmartAccessGatewayClientUserRequest::builder()
        .region_id("cn-shanghai")
        .smart_ag_id("sag-demo")
        .user_mail("a@example.com")
        .bandwidth(20)
        .build();
    assert_eq!(request.bandwidth, 20);
}
