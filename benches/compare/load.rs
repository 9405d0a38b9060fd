//! The load generator: raw TCP (or, with `BENCH_TLS=1`, TLS) streams read
//! with `memchr`, so that the client costs little next to the server it
//! measures, and `/proc` readings of the server process. With
//! `BENCH_COMPRESS=1` it asks for gzip and decodes what comes compressed.

use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use memchr::memmem;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A connection to the server: TCP, or TLS over it.
pub trait Io: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Io for T {}
pub type Conn = Box<dyn Io>;

/// Connects, over TLS when the run is (`crate::tls`).
async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    match crate::tls::connector() {
        None => Ok(Box::new(tcp)),
        Some(connector) => {
            let name =
                tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").expect("a name");
            Ok(Box::new(connector.connect(name, tcp).await?))
        }
    }
}

/// Connects, trying again shortly while the connection is refused (a full
/// accept queue).
pub async fn connect_retrying(addr: SocketAddr) -> Conn {
    loop {
        match connect(addr).await {
            Ok(stream) => return stream,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// A server process under test, killed on drop.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Runs this benchmark's own binary as the `kind` server.
    pub fn start(kind: &str) -> Self {
        let mut child = on_cpu_0(kind)
            .stdout(Stdio::piped())
            .spawn()
            .expect("server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("server output");
        let port: u16 = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("server said {line:?}"));
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    fn proc_file(&self, name: &str) -> String {
        std::fs::read_to_string(format!("/proc/{}/{name}", self.child.id())).expect("/proc")
    }

    /// User + system CPU time so far, all threads.
    pub fn cpu(&self) -> Duration {
        process_cpu(self.child.id())
    }

    /// Resident memory, in bytes.
    pub fn rss(&self) -> u64 {
        let status = self.proc_file("status");
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .expect("VmRSS");
        let kb: u64 = line
            .split_whitespace()
            .nth(1)
            .expect("value")
            .parse()
            .expect("kB");
        kb * 1024
    }
}

/// Another process of this benchmark's own (the competing load), on the
/// server's core when pinning; killed on drop.
pub struct Process(Child);

impl Process {
    pub fn start(role: &str) -> Self {
        Self(on_cpu_0(role).spawn().expect("starts"))
    }
}

/// This benchmark's own binary in `role`, on CPU 0 when pinning: the
/// server gets that core (the load generator runs on CPU 1), shared only
/// with what competes for it on purpose.
fn on_cpu_0(role: &str) -> Command {
    let exe = std::env::current_exe().expect("own path");
    let mut command = match crate::pinning() {
        true => {
            let mut command = Command::new("taskset");
            command.args(["-c", "0"]).arg(exe);
            command
        }
        false => Command::new(exe),
    };
    command.env(crate::ROLE, role);
    command
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User + system CPU time of process `pid` so far, all threads.
pub fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc");
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..]
        .split(' ')
        .collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64)
}

fn clock_ticks() -> u64 {
    let out = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(100)
}

/// A plain GET whose body is short; the connection closes after it.
pub async fn get_text(addr: SocketAddr, path: &str) -> String {
    let mut stream = connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    // Either plain or one chunk: take the last non-empty line that is not a size.
    if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split("\r\n").nth(1).unwrap_or_default().to_owned()
    } else {
        body.to_owned()
    }
}

/// Waits until the server counts `n` broadcast subscribers.
pub async fn wait_subscribers(addr: SocketAddr, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = get_text(addr, "/subscribers").await;
        let now: usize = answer.trim().parse().unwrap_or(0);
        if now >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{now} of {n} subscribers after 60 s: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the readers saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub events: u64,
    /// Publish-to-receive latencies, µs.
    pub latencies: Vec<u32>,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
    /// Body bytes as received, and once decoded (differ when compressed).
    pub wire_bytes: u64,
    pub plain_bytes: u64,
}

pub type Shared = Rc<RefCell<Seen>>;

/// Opens a stream: connects, sends the request, and returns the socket.
pub async fn open(addr: SocketAddr, path: &str) -> Conn {
    let mut stream = connect_retrying(addr).await;
    let gzip = match crate::compressing() {
        true => "accept-encoding: gzip\r\n",
        false => "",
    };
    let request = match crate::posting() {
        true => {
            let body = r#"{"topic":"all"}"#;
            format!(
                "POST {path} HTTP/1.1\r\nhost: bench\r\naccept: text/event-stream\r\n{gzip}\
                 content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
        }
        false => {
            format!("GET {path} HTTP/1.1\r\nhost: bench\r\naccept: text/event-stream\r\n{gzip}\r\n")
        }
    };
    stream.write_all(request.as_bytes()).await.expect("write");
    stream
}

/// Opens `n` streams at once, a task each, all started together, as
/// browsers do after a deploy; returns for each client the time from the
/// start until its response head arrived, and the open streams.
pub async fn storm(addr: SocketAddr, n: usize) -> (Vec<Duration>, Vec<Conn>) {
    let start = Instant::now();
    let clients: Vec<_> = (0..n)
        .map(|_| {
            tokio::task::spawn_local(async move {
                let mut stream = open(addr, "/broadcast").await;
                let mut head = Vec::with_capacity(512);
                let mut buf = [0u8; 512];
                while memmem::find(&head, b"\r\n\r\n").is_none() {
                    let read = stream.read(&mut buf).await.expect("read");
                    assert!(read > 0, "the server closed a storm connection");
                    head.extend_from_slice(&buf[..read]);
                }
                (start.elapsed(), stream)
            })
        })
        .collect();
    let mut times = Vec::with_capacity(n);
    let mut streams = Vec::with_capacity(n);
    for client in clients {
        let (time, stream) = client.await.expect("a storm client");
        times.push(time);
        streams.push(stream);
    }
    (times, streams)
}

/// Reads `stream` until `want` data events arrived (or it ends), into a
/// `buffer`-byte buffer, recording each event's latency when `timed`.
pub async fn read(mut stream: Conn, want: u64, buffer: usize, timed: bool, seen: Shared) {
    // Written now, not zero-mapped: otherwise the first event of a process's
    // first run pays a page fault per reader here, in the load generator,
    // and with 10,000 readers that one event sets the run's p99.
    let mut buf = vec![0xA5u8; buffer];
    let mut body = Dechunker::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut body_bytes: Vec<u8> = Vec::new();
    let mut gzip: Option<flate2::write::GzDecoder<Vec<u8>>> = None;
    let mut got = 0;
    let finder = memmem::Finder::new(b"\n\n");
    while got < want {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        body.feed(&buf[..n], &mut body_bytes);
        if body.gzip && gzip.is_none() {
            gzip = Some(flate2::write::GzDecoder::new(Vec::new()));
        }
        let wire = body_bytes.len() as u64;
        let before = pending.len();
        match &mut gzip {
            None => pending.append(&mut body_bytes),
            Some(decoder) => {
                use std::io::Write;
                decoder.write_all(&body_bytes).expect("valid gzip");
                decoder.flush().expect("valid gzip");
                body_bytes.clear();
                let plain = decoder.get_mut();
                pending.append(plain);
            }
        }
        let plain = (pending.len() - before) as u64;
        let now = Instant::now();
        let now_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_micros() as u64;
        let mut start = 0;
        let mut seen = seen.borrow_mut();
        seen.wire_bytes += wire;
        seen.plain_bytes += plain;
        while let Some(end) = finder.find(&pending[start..]) {
            let event = &pending[start..start + end];
            start += end + 2;
            let Some(sent) = sent_at(event) else { continue }; // a heartbeat
            got += 1;
            seen.events += 1;
            if timed {
                seen.latencies
                    .push(now_us.saturating_sub(sent).min(u32::MAX as u64) as u32);
            }
        }
        if start > 0 {
            seen.first.get_or_insert(now);
            seen.last = Some(now);
        }
        pending.drain(..start);
    }
}

/// The send time at the start of an event's data, if it has data.
fn sent_at(event: &[u8]) -> Option<u64> {
    let at = memmem::find(event, b"data: ")? + 6;
    let digits = &event[at..];
    let end = memchr::memchr(b',', digits)?;
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

/// Strips the HTTP head and the chunked framing (or passes a close-delimited
/// body through).
#[derive(Default)]
pub struct Dechunker {
    head: Vec<u8>,
    state: State,
    /// The response said `content-encoding: gzip`.
    gzip: bool,
}

#[derive(Default)]
enum State {
    #[default]
    Head,
    Size(u64),
    Data(u64),
    /// The CRLF after a chunk; `u8` counts the bytes still to skip.
    DataEnd(u8),
    Raw,
    Done,
}

impl Dechunker {
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match &mut self.state {
                State::Head => {
                    self.head.extend_from_slice(input);
                    let Some(end) = memmem::find(&self.head, b"\r\n\r\n") else {
                        return;
                    };
                    let head = String::from_utf8_lossy(&self.head[..end]).to_ascii_lowercase();
                    let rest = self.head.split_off(end + 4);
                    self.gzip = head.contains("content-encoding: gzip");
                    self.state = if head.contains("transfer-encoding: chunked") {
                        State::Size(0)
                    } else {
                        State::Raw
                    };
                    self.head.clear();
                    self.feed(&rest, out);
                    return;
                }
                State::Size(size) => {
                    let byte = input[0];
                    input = &input[1..];
                    match byte {
                        b'0'..=b'9' => *size = *size * 16 + u64::from(byte - b'0'),
                        b'a'..=b'f' => *size = *size * 16 + u64::from(byte - b'a' + 10),
                        b'A'..=b'F' => *size = *size * 16 + u64::from(byte - b'A' + 10),
                        b'\n' if *size == 0 => self.state = State::Done,
                        b'\n' => self.state = State::Data(*size),
                        _ => {} // CR, extensions
                    }
                }
                State::Data(left) => {
                    let take = (*left).min(input.len() as u64) as usize;
                    out.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    *left -= take as u64;
                    if *left == 0 {
                        self.state = State::DataEnd(2);
                    }
                }
                State::DataEnd(left) => {
                    input = &input[1..];
                    *left -= 1;
                    if *left == 0 {
                        self.state = State::Size(0);
                    }
                }
                State::Raw => {
                    out.extend_from_slice(input);
                    return;
                }
                State::Done => return,
            }
        }
    }
}
