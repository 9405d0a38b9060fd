//! Runs an example program as a user would: the binary `cargo test` built, on a
//! free port, stopped with Ctrl-C.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running example; killed on drop if the test did not stop it.
pub struct Example {
    child: Child,
    pub addr: SocketAddr,
    stdout: BufReader<std::process::ChildStdout>,
}

fn binary(name: &str) -> PathBuf {
    // target/debug/deps/<this test> → target/debug/examples/<name>
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: `cargo test` builds the examples (or run `cargo build --examples`)",
        path.display()
    );
    path
}

impl Example {
    pub fn start(name: &str) -> Self {
        Self::start_on(name, 0)
    }

    /// Starts it on `port` (`0`: any free port).
    pub fn start_on(name: &str, port: u16) -> Self {
        Self::start_with(name, port, &[])
    }

    /// Starts it on `port` with `env` set.
    pub fn start_with(name: &str, port: u16, env: &[(&str, &std::ffi::OsStr)]) -> Self {
        let mut child = Command::new(binary(name))
            .env("PORT", port.to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .or_else(|| line.trim().strip_prefix("listening on https://"))
            .unwrap_or_else(|| panic!("{name} printed {line:?}"))
            .parse()
            .unwrap();
        Self {
            child,
            addr,
            stdout,
        }
    }

    /// Runs it with `env` set, expecting it to exit on its own within
    /// `limit`: its exit status, what it printed on stdout and on stderr, and
    /// how long it ran.
    pub fn run_to_exit(
        name: &str,
        env: &[(&str, &std::ffi::OsStr)],
        limit: Duration,
    ) -> (std::process::ExitStatus, String, String, Duration) {
        let started = Instant::now();
        let mut child = Command::new(binary(name))
            .env("PORT", "0")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                panic!("{name} still runs after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let took = started.elapsed();
        let read = |pipe: Option<Box<dyn std::io::Read>>| {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                pipe.read_to_string(&mut text).unwrap();
            }
            text
        };
        let stdout = read(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read>),
        );
        let stderr = read(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read>),
        );
        (status, stdout, stderr, took)
    }

    /// How many connections its listening socket queues before it accepts
    /// them (its backlog, as `ss` reports it: iproute2 must be installed).
    pub fn listen_queue(&self) -> u32 {
        let out = Command::new("ss")
            .args(["-ltnH", &format!("sport = :{}", self.addr.port())])
            .output()
            .expect("`ss` (iproute2) runs");
        let text = String::from_utf8(out.stdout).unwrap();
        let queue = text.split_whitespace().nth(2);
        queue
            .and_then(|queue| queue.parse().ok())
            .unwrap_or_else(|| panic!("no listening socket in {text:?}"))
    }

    /// Sends Ctrl-C (SIGINT) and expects a clean exit soon after.
    pub fn interrupt(mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                break;
            }
            assert!(Instant::now() < deadline, "did not stop after Ctrl-C");
            std::thread::sleep(Duration::from_millis(20));
        }
        let rest: Vec<String> = (&mut self.stdout).lines().map(Result::unwrap).collect();
        assert_eq!(rest.last().map(String::as_str), Some("stopped"), "{rest:?}");
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
