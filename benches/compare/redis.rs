//! The `redis-server` of a `BENCH_REDIS=1` run: started once on a free
//! loopback port without persistence (what is measured is the backplane, not
//! the disk), on CPU 0 with the server under test when pinning.

use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The variable that tells a server process where Redis is.
const URL: &str = "SSE_BENCH_REDIS_URL";

static PID: OnceLock<u32> = OnceLock::new();

/// Whether this run compares Redis with memory (`BENCH_REDIS=1`).
pub fn wanted() -> bool {
    std::env::var("BENCH_REDIS").is_ok_and(|v| v == "1")
}

/// In a server process: the Redis to use.
pub fn url() -> Option<String> {
    std::env::var(URL).ok()
}

/// Redis, killed on drop.
pub struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Redis for a `BENCH_REDIS=1` run and tells the servers where it is.
pub fn prepare() -> Option<Redis> {
    if !wanted() {
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut command = match crate::pinning() {
        true => {
            let mut command = Command::new("taskset");
            command.args(["-c", "0", "redis-server"]);
            command
        }
        false => Command::new("redis-server"),
    };
    let child = command
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts (apt-get install redis-server)");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = PID.set(child.id());
    // Read by the server processes this one starts (edition 2021: safe).
    std::env::set_var(URL, format!("redis://127.0.0.1:{port}/"));
    Some(Redis(child))
}

/// Redis's CPU time so far, on a `BENCH_REDIS=1` run.
pub fn cpu() -> Option<Duration> {
    PID.get().map(|&pid| crate::load::process_cpu(pid))
}
