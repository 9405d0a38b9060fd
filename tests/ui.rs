//! Compile-time behaviour of `#[sse]`: what compiles, and the error each misuse
//! gives (`tests/ui/fail/*.stderr`, reviewed like screenshots).
//! Regenerate after a deliberate change with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
