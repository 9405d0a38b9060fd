//! B1: bursts into a crowded room, and whether the server comes back.
//!
//! 10,000 subscribers of a chat-like hub (history 500, `Lagging::Close`,
//! `retry: 1s` spread by `retry_jitter(2s)`), each a client that reconnects
//! after the `retry:` it was given with its `Last-Event-ID`, as a browser
//! does. The server publishes five bursts of 200 messages a second apart,
//! then one of 800, larger than the history. Every subscriber must see
//! every message exactly once, or a `history-lost` signal before the ones it
//! skips; after the last burst, every subscriber must have everything, be
//! connected again, and the server's CPU and memory be back to normal, each
//! timed. It runs in memory and on Redis (when `redis-server` is there),
//! each alone and with a CPU-bound process competing for the server's core.
//!
//! This is the project against itself (axum has no hub with a history to
//! compare), so it prints a table of its own.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use memchr::memmem;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::load::{self, ServerProcess};

/// The roles this scenario's processes take (`crate::ROLE`).
pub const MEMORY: &str = "bursts-memory";
pub const REDIS: &str = "bursts-redis";
pub const HOG: &str = "hog";

/// The history the room keeps, and the bursts published into it.
const HISTORY: usize = 500;
const BURSTS: [u64; 6] = [200, 200, 200, 200, 200, 800];
/// How long everything has to come back after the last burst.
const RECOVERY: Duration = Duration::from_secs(10);

pub mod server {
    //! The room: what the chat example does with its hub, reduced to what
    //! the scenario measures.

    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use sse_runtime::extract::State;
    use sse_runtime::hub::{Hub, Lagging, RedisBackplane};
    use sse_runtime::{sse, Server};

    /// A message: its number in the run, padded to about 100 bytes.
    #[derive(Clone)]
    pub struct Said(u64);

    impl std::fmt::Display for Said {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{},{}", self.0, "x".repeat(90))
        }
    }

    #[sse("/room", events(Said = "message"), retry = "1s")]
    async fn room(
        session: RoomSession,
        hub: State<Hub<RoomRoute>>,
    ) -> Result<(), sse_runtime::Error> {
        // Resumes after the client's Last-Event-ID by itself.
        hub.0.subscribe().serve(&session).await?;
        Ok(())
    }

    pub fn serve(redis: Option<String>) {
        // The comparison's servers' runtime and listener: one worker, the
        // deep backlog, the port announced on stdout.
        crate::servers::runtime().block_on(async {
            let listener = crate::servers::listen();
            let hub = match redis {
                None => Hub::<RoomRoute>::builder().history(super::HISTORY).build(),
                Some(url) => {
                    let backplane = RedisBackplane::builder(url)
                        .history(super::HISTORY)
                        .key_prefix("bursts:")
                        .connect()
                        .await
                        .expect("Redis");
                    Hub::with_backplane(backplane)
                }
            };
            let hub = hub.lagging(Lagging::Close);
            let control = hub.clone();
            let next = Arc::new(AtomicU64::new(1));
            let server = Server::new()
                .with_state(hub)
                .route(room)
                .retry_jitter(Duration::from_secs(2))
                .fallback(
                    move |request: http::Request<sse_runtime::server::RequestBody>| {
                        let (hub, next) = (control.clone(), next.clone());
                        async move {
                            let query = request.uri().query().unwrap_or_default().to_owned();
                            let body = match request.uri().path() {
                                "/subscribers" => hub.stats().subscribers.to_string(),
                                "/stats" => {
                                    let stats = hub.stats();
                                    format!("{} {}", stats.lagged, stats.history_lost)
                                }
                                "/burst" => {
                                    let n: u64 = query
                                        .strip_prefix("n=")
                                        .and_then(|n| n.parse().ok())
                                        .unwrap_or(0);
                                    // Published by one task without a pause,
                                    // the worst case: in memory, no subscriber
                                    // reads until the burst is in.
                                    for _ in 0..n {
                                        let seq = next.fetch_add(1, Ordering::Relaxed);
                                        hub.publish(Said(seq)).await.expect("published");
                                    }
                                    n.to_string()
                                }
                                _ => "not found".to_owned(),
                            };
                            http::Response::new(body)
                        }
                    },
                );
            server.serve_on(listener).await.expect("serves");
        });
    }
}

/// Spins on one core until killed: the competing load.
pub fn hog() {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// What one subscriber saw.
#[derive(Debug, Default)]
struct Subscriber {
    /// The number of the next message it should get.
    next: u64,
    /// A `history-lost` came, so the next message may skip ahead.
    lost_pending: bool,
    duplicates: u64,
    /// Messages skipped with no `history-lost` before them.
    gaps: u64,
    /// Messages skipped after a `history-lost`.
    lost: u64,
    signals: u64,
    reconnects: u64,
    last_id: Option<String>,
    retry: Duration,
    done_at: Option<Instant>,
}

impl Subscriber {
    fn message(&mut self, seq: u64, total: u64) {
        if seq < self.next {
            self.duplicates += 1;
            return;
        }
        if seq > self.next {
            match self.lost_pending {
                true => self.lost += seq - self.next,
                false => self.gaps += seq - self.next,
            }
        }
        self.lost_pending = false;
        self.next = seq + 1;
        if self.next > total && self.done_at.is_none() {
            self.done_at = Some(Instant::now());
        }
    }
}

type Shared = Rc<RefCell<Subscriber>>;

/// A subscriber's life: connect, read, and on a close reconnect after its
/// `retry:` with its last id, until it has message `total` and `stop` says
/// the run is over.
async fn subscribe(
    addr: SocketAddr,
    state: Shared,
    total: Rc<RefCell<u64>>,
    stop: Rc<RefCell<bool>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let last = state.borrow().last_id.clone();
        let resume = last
            .map(|id| format!("last-event-id: {id}\r\n"))
            .unwrap_or_default();
        let mut stream = load::connect_retrying(addr).await;
        let request = format!(
            "GET /room HTTP/1.1\r\nhost: bench\r\naccept: text/event-stream\r\n{resume}\r\n"
        );
        if stream.write_all(request.as_bytes()).await.is_err() {
            continue;
        }
        let mut body = load::Dechunker::default();
        let (mut plain, mut pending) = (Vec::new(), Vec::new());
        let finder = memmem::Finder::new(b"\n\n");
        loop {
            let n = tokio::select! {
                read = stream.read(&mut buf) => match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                },
                () = tokio::time::sleep(Duration::from_millis(200)) => {
                    if *stop.borrow() { return; }
                    continue;
                }
            };
            body.feed(&buf[..n], &mut plain);
            pending.append(&mut plain);
            let mut start = 0;
            let mut state = state.borrow_mut();
            let total = *total.borrow();
            while let Some(end) = finder.find(&pending[start..]) {
                read_event(&pending[start..start + end], &mut state, total);
                start += end + 2;
            }
            pending.drain(..start);
        }
        if *stop.borrow() {
            return;
        }
        // Closed (a slow consumer, or the server's trouble): back after the
        // retry it was given, exactly, as browsers do.
        let retry = {
            let mut state = state.borrow_mut();
            state.reconnects += 1;
            state.retry
        };
        tokio::time::sleep(retry).await;
    }
}

fn read_event(event: &[u8], state: &mut Subscriber, total: u64) {
    let text = String::from_utf8_lossy(event);
    let (mut name, mut data, mut id) = (None, None, None);
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("event: ") {
            name = Some(value);
        } else if let Some(value) = line.strip_prefix("data: ") {
            data = Some(value);
        } else if let Some(value) = line.strip_prefix("id: ") {
            id = Some(value);
        } else if let Some(value) = line.strip_prefix("retry: ") {
            if let Ok(ms) = value.parse() {
                state.retry = Duration::from_millis(ms);
            }
        }
    }
    if let Some(id) = id {
        state.last_id = Some(id.to_owned());
    }
    match (name, data) {
        (Some("history-lost"), _) => {
            state.signals += 1;
            state.lost_pending = true;
        }
        (Some("message"), Some(data)) => {
            if let Some(seq) = data.split(',').next().and_then(|seq| seq.parse().ok()) {
                state.message(seq, total);
            }
        }
        _ => {} // a heartbeat, the retry
    }
}

/// One configuration's results.
#[derive(Debug)]
struct Outcome {
    backplane: &'static str,
    competing: bool,
    subscribers: usize,
    complete: usize,
    duplicates: u64,
    gaps: u64,
    lost: u64,
    signals: u64,
    reconnects: u64,
    delivered_after: Option<Duration>,
    connected_after: Option<Duration>,
    cpu_idle_after: Option<Duration>,
    cpu_seconds: f64,
    rss_before: u64,
    rss_after: u64,
    lagged: String,
}

fn run(backplane: &'static str, competing: bool, n: usize) -> Outcome {
    let role = match backplane {
        "redis" => REDIS,
        _ => MEMORY,
    };
    let server = ServerProcess::start(role);
    let hog = competing.then(|| load::Process::start(HOG));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    let total_messages: u64 = BURSTS.iter().sum();
    runtime.block_on(local.run_until(async {
        let total = Rc::new(RefCell::new(total_messages));
        let stop = Rc::new(RefCell::new(false));
        let states: Vec<Shared> = (0..n)
            .map(|_| {
                Rc::new(RefCell::new(Subscriber {
                    next: 1,
                    retry: Duration::from_secs(1),
                    ..Subscriber::default()
                }))
            })
            .collect();
        let mut tasks = Vec::with_capacity(n);
        for (i, state) in states.iter().enumerate() {
            tasks.push(tokio::task::spawn_local(subscribe(
                server.addr,
                state.clone(),
                total.clone(),
                stop.clone(),
            )));
            if i % 200 == 199 {
                tokio::task::yield_now().await;
            }
        }
        load::wait_subscribers(server.addr, n).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss_before = server.rss();
        let cpu_before = server.cpu();
        for (i, burst) in BURSTS.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            load::get_text(server.addr, &format!("/burst?n={burst}")).await;
        }
        let last_burst = Instant::now();
        // Everything delivered, everyone connected, the CPU quiet again.
        let (mut delivered_after, mut connected_after, mut cpu_idle_after) = (None, None, None);
        let mut cpu_then = server.cpu();
        let mut sampled = Instant::now();
        while last_burst.elapsed() < RECOVERY + Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let complete = states.iter().all(|s| s.borrow().done_at.is_some());
            if complete && delivered_after.is_none() {
                delivered_after = Some(last_burst.elapsed());
            }
            let connected: usize = load::get_text(server.addr, "/subscribers")
                .await
                .trim()
                .parse()
                .unwrap_or(0);
            if connected >= n && complete && connected_after.is_none() {
                connected_after = Some(last_burst.elapsed());
            }
            let (cpu_now, now) = (server.cpu(), Instant::now());
            let busy = (cpu_now - cpu_then).as_secs_f64() / (now - sampled).as_secs_f64();
            (cpu_then, sampled) = (cpu_now, now);
            if busy < 0.1 && complete && cpu_idle_after.is_none() {
                cpu_idle_after = Some(last_burst.elapsed());
            }
            let recovered =
                delivered_after.is_some() && connected_after.is_some() && cpu_idle_after.is_some();
            if recovered && last_burst.elapsed() >= RECOVERY {
                break;
            }
        }
        // Memory once the recovery time is over.
        let cpu_seconds = (server.cpu() - cpu_before).as_secs_f64();
        let rss_after = server.rss();
        let lagged = load::get_text(server.addr, "/stats")
            .await
            .trim()
            .to_owned();
        *stop.borrow_mut() = true;
        for task in tasks {
            let _ = task.await;
        }
        drop(hog);
        let sum = |f: fn(&Subscriber) -> u64| states.iter().map(|s| f(&s.borrow())).sum::<u64>();
        Outcome {
            backplane,
            competing,
            subscribers: n,
            complete: states
                .iter()
                .filter(|s| {
                    let s = s.borrow();
                    s.done_at.is_some() && s.duplicates == 0 && s.gaps == 0
                })
                .count(),
            duplicates: sum(|s| s.duplicates),
            gaps: sum(|s| s.gaps),
            lost: sum(|s| s.lost),
            signals: sum(|s| s.signals),
            reconnects: sum(|s| s.reconnects),
            delivered_after,
            connected_after,
            cpu_idle_after,
            cpu_seconds,
            rss_before,
            rss_after,
            lagged,
        }
    }))
}

/// Runs B1 in every configuration this machine can, and prints its table.
pub fn scenario() {
    let n = crate::env_or("BENCH_BURST_N", 10_000);
    eprintln!("== B1 (bursts into {n} subscribers, alone and with a competing load)");
    let mut backplanes = vec!["memory"];
    if crate::redis::url().is_some() {
        backplanes.push("redis");
    } else {
        eprintln!("   B1 on Redis needs BENCH_REDIS=1 (and redis-server): in memory only");
    }
    let mut outcomes = Vec::new();
    for backplane in backplanes {
        for competing in [false, true] {
            let outcome = run(backplane, competing, n);
            eprintln!("   {outcome:?}");
            outcomes.push(outcome);
        }
    }
    let secs = |d: Option<Duration>| {
        d.map_or("**not within 15 s**".to_owned(), |d| {
            format!("{:.1}", d.as_secs_f64())
        })
    };
    println!("\n| B1: {n} subscribers, bursts {BURSTS:?}, history {HISTORY} | competing load | subscribers with every message once (or after history-lost) | duplicates | unannounced gaps | skipped after history-lost | history-lost signals | reconnects | lagged, history-lost (hub) | all delivered after last burst (s) | all connected (s) | server CPU < 10 % (s) | server CPU (s) | RSS before → 10 s after (MB) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for o in outcomes {
        println!(
            "| {} | {} | {} of {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.0} → {:.0} |",
            o.backplane,
            if o.competing { "a CPU-bound process on the server's core" } else { "none" },
            o.complete,
            o.subscribers,
            o.duplicates,
            o.gaps,
            o.lost,
            o.signals,
            o.reconnects,
            o.lagged,
            secs(o.delivered_after),
            secs(o.connected_after),
            secs(o.cpu_idle_after),
            o.cpu_seconds,
            o.rss_before as f64 / 1e6,
            o.rss_after as f64 / 1e6,
        );
    }
}
