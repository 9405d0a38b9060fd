//! A `redis-server` of the test's own, on a free loopback port, with its
//! data in a directory of its own (append-only file, fsync per write, so a
//! restart keeps everything unless the test throws the data away).
//!
//! Without the binary the test is skipped with a notice; `SSE_REQUIRE_REDIS=1`
//! (set by `.ci/run`) makes that a failure.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    program: PathBuf,
    port: u16,
    dir: PathBuf,
}

fn program() -> Option<PathBuf> {
    let path = PathBuf::from(
        std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "/usr/bin/redis-server".into()),
    );
    path.exists().then_some(path)
}

impl RedisServer {
    /// Starts a server, or returns `None` after printing why the test is skipped.
    pub fn start(test: &str) -> Option<Self> {
        let Some(program) = program() else {
            let why = "redis-server not found (apt-get install redis-server, or set REDIS_SERVER)";
            assert!(
                !matches!(std::env::var("SSE_REQUIRE_REDIS").as_deref(), Ok("1")),
                "{test}: {why}, and SSE_REQUIRE_REDIS=1 forbids skipping"
            );
            eprintln!("SKIPPED {test}: {why}");
            return None;
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sse-redis-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a directory for redis");
        let port = super::free_port();
        let mut server = Self {
            child: None,
            program,
            port,
            dir,
        };
        server.spawn();
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn spawn(&mut self) {
        let child = Command::new(&self.program)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--dir")
            .arg(&self.dir)
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .args(["--protected-mode", "no", "--loglevel", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            let exited = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            assert!(
                exited.is_none(),
                "redis-server exited ({exited:?}): port {} taken?",
                self.port
            );
            assert!(
                Instant::now() < deadline,
                "redis-server listens within 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the server (its data stays on disk).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A frozen server dies of SIGKILL too; thawed first, so that
            // nothing is left stopped if the kill fails.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (`SIGSTOP`): connections stay open, commands are
    /// taken by the kernel and wait, and nothing answers until [`thaw`](Self::thaw).
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server run again (`SIGCONT`): it runs what waited.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("a running server").id();
        let sent = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill {signal} {pid}");
    }

    /// Starts it again on the same port; with `keep_data` false, with
    /// nothing of what it had.
    pub fn start_again(&mut self, keep_data: bool) {
        self.stop();
        if !keep_data {
            let _ = std::fs::remove_dir_all(&self.dir);
            std::fs::create_dir_all(&self.dir).expect("a directory for redis");
        }
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
