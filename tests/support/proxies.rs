//! Real reverse proxies in front of a test's server: nginx and HAProxy, each
//! started with a configuration of the test's own on a free loopback port,
//! in a directory of its own, and stopped on drop.
//!
//! Each proxy connects to the server from a loopback address of its own
//! (`proxy_bind`, `source`), so the server can trust the proxy and not the
//! test's client, which connects from another ([`connect_from`]).
//!
//! Without the binary the test is skipped with a notice;
//! `SSE_REQUIRE_PROXIES=1` (set by `.ci/run`) makes that a failure.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The nginx `location` block the README documents for streams (its one
/// ```` ```nginx ```` block), read from the README so that what it says is
/// what is tested.
fn nginx_location() -> String {
    let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let text = std::fs::read_to_string(readme).expect("the README");
    let start = text
        .find("```nginx\n")
        .expect("an nginx block in the README")
        + 9;
    let end = start + text[start..].find("```").expect("the block ends");
    text[start..end].to_owned()
}

/// A running proxy; stopped (and its directory removed) on drop.
pub struct Proxy {
    child: Child,
    pub addr: SocketAddr,
    dir: PathBuf,
}

/// Where a proxy program is, or `None` after printing why the test is
/// skipped.
fn program(test: &str, name: &str, paths: &[&str]) -> Option<PathBuf> {
    if let Some(path) = paths.iter().map(PathBuf::from).find(|path| path.exists()) {
        return Some(path);
    }
    let why = format!("{name} not found (apt-get install {name})");
    assert!(
        !matches!(std::env::var("SSE_REQUIRE_PROXIES").as_deref(), Ok("1")),
        "{test}: {why}, and SSE_REQUIRE_PROXIES=1 forbids skipping"
    );
    eprintln!("SKIPPED {test}: {why}");
    None
}

fn own_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sse-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a directory for the proxy");
    dir
}

impl Proxy {
    /// nginx in front of `upstream` (the upstream `sse`), connecting to it
    /// from `bind`, with the README's location block.
    pub fn nginx(test: &str, upstream: SocketAddr, bind: IpAddr) -> Option<Self> {
        let program = program(test, "nginx", &["/usr/sbin/nginx", "/usr/bin/nginx"])?;
        let dir = own_dir("nginx");
        let port = super::free_port();
        let d = dir.display();
        let location = nginx_location();
        let config = format!(
            "master_process off;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
                 access_log off;\n\
                 client_body_temp_path {d}/body;\n\
                 proxy_temp_path {d}/proxy;\n\
                 fastcgi_temp_path {d}/fastcgi;\n\
                 uwsgi_temp_path {d}/uwsgi;\n\
                 scgi_temp_path {d}/scgi;\n\
                 upstream sse {{ server {upstream}; keepalive 4; }}\n\
                 server {{\n\
                     listen 127.0.0.1:{port};\n\
                     proxy_bind {bind};\n\
                     {location}\n\
                 }}\n\
             }}\n"
        );
        let file = dir.join("nginx.conf");
        std::fs::write(&file, config).expect("nginx.conf written");
        let child = Command::new(program)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&file)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        Some(Self::ready(child, port, dir))
    }

    /// HAProxy in TCP mode in front of `upstream`, connecting to it from
    /// `source` and starting each connection with a PROXY protocol header:
    /// v1 on the first address it listens on, v2 on the second.
    pub fn haproxy(test: &str, upstream: SocketAddr, source: IpAddr) -> Option<(Self, SocketAddr)> {
        let program = program(test, "haproxy", &["/usr/sbin/haproxy", "/usr/bin/haproxy"])?;
        let dir = own_dir("haproxy");
        let (v1, v2) = (super::free_port(), super::free_port());
        let config = format!(
            "global\n\
             \x20   maxconn 256\n\
             defaults\n\
             \x20   mode tcp\n\
             \x20   timeout connect 5s\n\
             \x20   timeout client 1h\n\
             \x20   timeout server 1h\n\
             listen v1\n\
             \x20   bind 127.0.0.1:{v1}\n\
             \x20   source {source}\n\
             \x20   server app {upstream} send-proxy\n\
             listen v2\n\
             \x20   bind 127.0.0.1:{v2}\n\
             \x20   source {source}\n\
             \x20   server app {upstream} send-proxy-v2\n"
        );
        let file = dir.join("haproxy.cfg");
        std::fs::write(&file, config).expect("haproxy.cfg written");
        let child = Command::new(program)
            .arg("-f")
            .arg(&file)
            .arg("-db")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("haproxy starts");
        let proxy = Self::ready(child, v1, dir);
        wait_for(v2);
        Some((proxy, SocketAddr::from(([127, 0, 0, 1], v2))))
    }

    fn ready(child: Child, port: u16, dir: PathBuf) -> Self {
        wait_for(port);
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        }
    }

    /// The proxy's own log, for a failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(Path::new(&self.dir).join("error.log")).unwrap_or_default()
    }
}

fn wait_for(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the proxy listens within 10 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A connection to `addr` from the loopback address `from` (any port).
pub async fn connect_from(from: IpAddr, addr: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind(SocketAddr::new(from, 0))
        .expect("bound to a loopback address");
    socket.connect(addr).await.expect("connected")
}
