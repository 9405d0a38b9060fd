//! The official SDK clients, in Python: a virtual environment with the
//! pinned `tests/clients/requirements.txt` (made by `.ci/run`), or the
//! Python `SSE_PYTHON` names. Each script under `tests/clients/` drives an
//! example and prints, as one JSON value, what its SDK reported.
//!
//! Without them the test is skipped with a notice; `SSE_REQUIRE_SDK=1`
//! (set by `.ci/run`) makes that a failure.

use std::path::PathBuf;
use std::process::Command;

/// The Python with the SDKs, or `None` after printing why the test is
/// skipped.
pub fn python(test: &str) -> Option<PathBuf> {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/.venv/bin/python");
    let python = std::env::var_os("SSE_PYTHON").map_or_else(|| PathBuf::from(venv), PathBuf::from);
    let has_sdks = Command::new(&python)
        .args(["-c", "import openai, anthropic"])
        .output()
        .is_ok_and(|out| out.status.success());
    if has_sdks {
        return Some(python);
    }
    let why = "no Python with the openai and anthropic SDKs (python3 -m venv tests/clients/.venv && \
               tests/clients/.venv/bin/pip install -r tests/clients/requirements.txt, or set SSE_PYTHON)";
    assert!(
        !matches!(std::env::var("SSE_REQUIRE_SDK").as_deref(), Ok("1")),
        "{test}: {why}, and SSE_REQUIRE_SDK=1 forbids skipping"
    );
    eprintln!("SKIPPED {test}: {why}");
    None
}

/// Runs `tests/clients/<script>` with `args` and returns what it printed.
pub fn run(python: &PathBuf, script: &str, args: &[&str]) -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/").to_owned() + script;
    let out = Command::new(python)
        .arg(&path)
        .args(args)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} {args:?}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("{script} printed {stdout:?}: {err}"))
}
