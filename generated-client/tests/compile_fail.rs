//! Required parameters are enforced at compile time: leaving one out, or setting one twice, does
//! not compile; a complete request does.

#[test]
fn required_parameters_are_checked_by_the_compiler() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/complete_request.rs");
    t.compile_fail("tests/ui/missing_bandwidth.rs");
    t.compile_fail("tests/ui/region_set_twice.rs");
}
