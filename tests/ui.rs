//! Compile-time behaviour of `#[sse]`: what compiles, and the error each misuse
//! gives (`tests/ui/fail/*.stderr`, reviewed like screenshots).
//! Regenerate after a deliberate change with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}

/// One mistake, one error: each fail case's expected output is exactly one
/// error and no warning (trybuild compares the output, this checks its shape).
#[test]
fn every_fail_case_is_one_error_and_nothing_else() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/fail");
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            cases += 1;
            let stderr = std::fs::read_to_string(path.with_extension("stderr"))
                .unwrap_or_else(|_| panic!("{} has no .stderr", path.display()));
            let starting = |word: &str| stderr.lines().filter(|l| l.starts_with(word)).count();
            assert_eq!(
                (starting("error"), starting("warning")),
                (1, 0),
                "{}",
                path.display()
            );
        }
    }
    assert!(cases > 80, "{cases} cases");
}
