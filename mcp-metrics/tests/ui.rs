//! Compile errors for misuse, and code that must compile cleanly.
#![cfg(all(feature = "metrics", feature = "trace", feature = "rmcp"))]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
