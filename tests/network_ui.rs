//! Compile-time behaviour of `network!`: every mistake in a declaration is a compile error at the tokens
//! it is about, with the text held in `tests/ui/network/*.stderr`; valid declarations compile and run.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test network_ui`, then read it.

#[test]
fn network_macro_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/network/*.rs");
    t.pass("tests/ui/network-pass/*.rs");
}
