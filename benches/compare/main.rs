//! This project against axum 0.8, side by side on this machine: see
//! BENCHMARKS.md. `cargo bench --bench compare` runs every scenario several
//! times, alternating the two servers, and prints medians, ranges and the
//! ratio project ÷ axum.
//!
//! `BENCH_RUNS` (default 5) sets the runs per server; `BENCH_ONLY=S2,S5`
//! picks scenarios; `BENCH_SCALE` (default 1) multiplies durations;
//! `BENCH_LAYER=1` gives the project's server a pass-through tower layer (what
//! a layer costs); `BENCH_TLS=1` serves both over TLS (rustls with ring, a
//! certificate made for the run; axum behind tokio-rustls and hyper-util, as
//! axum's own TLS example does); `BENCH_COMPRESS=1` turns gzip on in the
//! project's server, has the load generator ask for it, and makes the payload
//! JSON (axum's stays uncompressed: what it costs is the project's against
//! itself, run once with and once without); `BENCH_PIN=0` stops pinning the
//! server to CPU 0 and the load generator to CPU 1 (with `taskset`);
//! `BENCH_POST=1` opens the streams with a `POST` and a small JSON body, as
//! LLM and MCP clients do, instead of an `EventSource`'s `GET`.
//!
//! B1 (`bursts.rs`) is the project against itself: bursts into 10,000
//! subscribers of a hub with a history, alone and with a CPU-bound process
//! on the server's core, in memory and (with `BENCH_REDIS=1`) on Redis;
//! `BENCH_BURST_N` changes the subscribers.
//!
//! `BENCH_REDIS=1` compares the project's server with its hub on Redis
//! Streams against the same server with the in-memory hub, instead of axum:
//! a `redis-server` of the run's own (no persistence) shares CPU 0 with the
//! server, and its CPU is reported per delivery too.

mod bursts;
mod gateway;
mod load;
mod redis;
mod servers;
mod tls;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use load::{ServerProcess, Shared};

/// The environment variable that makes this binary a server.
pub const ROLE: &str = "SSE_BENCH_SERVE";

/// The two servers compared: the project and axum, or (`BENCH_REDIS=1`)
/// the project on Redis and the project in memory.
fn servers() -> [&'static str; 2] {
    match redis::wanted() {
        true => ["redis", "memory"],
        false => ["project", "axum"],
    }
}

/// Set in the re-run that is already pinned to its core.
const PINNED: &str = "SSE_BENCH_PINNED";

/// Whether to pin the server and the load generator to a core each: with
/// `taskset` and at least two cores, unless `BENCH_PIN=0`.
pub fn pinning() -> bool {
    let wanted = std::env::var("BENCH_PIN").map_or(true, |v| v != "0");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let taskset = std::process::Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    wanted && (cores >= 2 || std::env::var_os(PINNED).is_some()) && taskset
}

fn main() {
    match std::env::var(ROLE).as_deref() {
        Ok("project" | "memory") => return servers::project::serve(None),
        Ok("redis") => return servers::project::serve(redis::url()),
        Ok("axum") => return servers::axum_baseline::serve(),
        Ok(bursts::MEMORY) => return bursts::server::serve(None),
        Ok(bursts::REDIS) => return bursts::server::serve(redis::url()),
        Ok(bursts::HOG) => return bursts::hog(),
        _ => {}
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // we act on: only run when asked to benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    if pinning() && std::env::var_os(PINNED).is_none() {
        // Run again on CPU 1 only, so the load generator and the server
        // (on CPU 0) do not take turns on the same core.
        let status = std::process::Command::new("taskset")
            .args(["-c", "1"])
            .arg(std::env::current_exe().expect("own path"))
            .args(std::env::args().skip(1))
            .env(PINNED, "1")
            .status()
            .expect("taskset runs");
        std::process::exit(status.code().unwrap_or(1));
    }
    tls::prepare();
    let _redis = redis::prepare();
    let runs: usize = env_or("BENCH_RUNS", 5);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let mut table = Vec::new();
    for scenario in SCENARIOS {
        if !only.is_empty() && !only.split(',').any(|s| s == scenario.name) {
            continue;
        }
        eprintln!("== {} ({})", scenario.name, scenario.what);
        let mut results: [Vec<Measured>; 2] = [Vec::new(), Vec::new()];
        for run in 0..runs {
            for (i, kind) in servers().iter().enumerate() {
                let measured = (scenario.run)(kind);
                eprintln!("   run {run} {kind:8} {measured:?}");
                results[i].push(measured);
            }
        }
        table.extend(report(scenario, &results));
    }
    let [first, second] = servers();
    let b1 = only.is_empty() || only.split(',').any(|s| s == "B1");
    if table.is_empty() && b1 {
        return bursts::scenario();
    }
    println!("\n| scenario | measure | {first} (median, range) | {second} (median, range) | {first} ÷ {second} | target |");
    println!("|---|---|---|---|---|---|");
    for row in table {
        println!("{row}");
    }
    if b1 {
        bursts::scenario();
    }
}

/// Whether this run compresses (`BENCH_COMPRESS=1`).
pub fn compressing() -> bool {
    std::env::var("BENCH_COMPRESS").is_ok_and(|v| v == "1")
}

/// Whether streams are opened by a `POST` with a JSON body (`BENCH_POST=1`),
/// as LLM and MCP clients open them, instead of an `EventSource`'s `GET`.
pub fn posting() -> bool {
    std::env::var("BENCH_POST").is_ok_and(|v| v == "1")
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One run's numbers; `None` where a scenario does not measure it.
#[derive(Clone, Copy, Debug, Default)]
struct Measured {
    delivered_share: f64,
    memory_per_connection: Option<f64>,
    cpu_per_delivery_ns: Option<f64>,
    /// Redis's own CPU per delivery, on a `BENCH_REDIS=1` run.
    redis_cpu_per_delivery_ns: Option<f64>,
    p50_us: Option<f64>,
    p99_us: Option<f64>,
    max_us: Option<f64>,
    events_per_second: Option<f64>,
}

/// A measure's name, how to read it, its target ratio if any, and whether
/// lower is better.
type Measure = (
    &'static str,
    fn(&Measured) -> Option<f64>,
    Option<f64>,
    bool,
);

struct Scenario {
    name: &'static str,
    what: &'static str,
    run: fn(&str) -> Measured,
    measures: &'static [Measure],
}

/// What a storm measures: the last client's wait, the spread, and the
/// server's CPU per client served.
const STORM: &[Measure] = &[
    ("time until all are served (µs)", |m| m.max_us, None, true),
    ("p99 per client (µs)", |m| m.p99_us, None, true),
    ("p50 per client (µs)", |m| m.p50_us, None, true),
    ("CPU per client (ns)", |m| m.cpu_per_delivery_ns, None, true),
];

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "S1",
        what: "10,000 idle subscribers, heartbeat on",
        run: s1,
        measures: &[(
            "memory per connection (bytes)",
            |m| m.memory_per_connection,
            Some(0.5),
            true,
        )],
    },
    Scenario {
        name: "S2",
        what: "10,000 subscribers x 10 events/s x 100 B",
        run: s2,
        measures: &[
            (
                "CPU per delivery (ns)",
                |m| m.cpu_per_delivery_ns,
                Some(0.9),
                true,
            ),
            ("p99 latency (µs)", |m| m.p99_us, Some(0.85), true),
            ("p50 latency (µs)", |m| m.p50_us, None, true),
            ("max latency (µs)", |m| m.max_us, None, true),
            (
                "Redis CPU per delivery (ns)",
                |m| m.redis_cpu_per_delivery_ns,
                None,
                true,
            ),
        ],
    },
    Scenario {
        name: "S3",
        what: "100 subscribers x 10,000 events/s x 100 B",
        run: s3,
        measures: &[
            (
                "CPU per delivery (ns)",
                |m| m.cpu_per_delivery_ns,
                Some(0.6),
                true,
            ),
            ("p99 latency (µs)", |m| m.p99_us, Some(0.1), true),
            ("p50 latency (µs)", |m| m.p50_us, None, true),
            ("max latency (µs)", |m| m.max_us, None, true),
        ],
    },
    Scenario {
        name: "S4",
        what: "10 subscribers x 1,000 events/s",
        run: s4,
        measures: &[
            ("p99 latency (µs)", |m| m.p99_us, Some(1.0), true),
            ("p50 latency (µs)", |m| m.p50_us, None, true),
            ("max latency (µs)", |m| m.max_us, None, true),
        ],
    },
    Scenario {
        name: "S5",
        what: "one client, 1,000,000 events x 64 B",
        run: s5,
        measures: &[(
            "events per second",
            |m| m.events_per_second,
            Some(1.5),
            false,
        )],
    },
    Scenario {
        name: "S7",
        what: "a reconnect storm: 5,000 clients connecting at once",
        run: s7,
        measures: STORM,
    },
    Scenario {
        name: "S8",
        what: "a reconnect storm: 10,000 clients connecting at once",
        run: s8,
        measures: STORM,
    },
    Scenario {
        name: "S9",
        what: "an LLM gateway: 2,000 POST streams, each its own producer, 50 chunks/s x 200 B",
        run: gateway::s9,
        measures: &[
            (
                "CPU per token (ns)",
                |m| m.cpu_per_delivery_ns,
                Some(0.7),
                true,
            ),
            (
                "time to first token p99 (µs)",
                |m| m.p99_us,
                Some(1.0),
                true,
            ),
            (
                "time to first token p50 (µs)",
                |m| m.p50_us,
                Some(1.0),
                true,
            ),
            (
                "memory per open stream (bytes)",
                |m| m.memory_per_connection,
                None,
                true,
            ),
        ],
    },
    Scenario {
        name: "S6",
        what: "1,000 subscribers x 1,000 events/s x 100 B",
        run: s6,
        measures: &[
            (
                "CPU per delivery (ns)",
                |m| m.cpu_per_delivery_ns,
                None,
                true,
            ),
            ("p99 latency (µs)", |m| m.p99_us, None, true),
            ("p50 latency (µs)", |m| m.p50_us, None, true),
            ("max latency (µs)", |m| m.max_us, None, true),
            (
                "Redis CPU per delivery (ns)",
                |m| m.redis_cpu_per_delivery_ns,
                None,
                true,
            ),
        ],
    },
];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Opens `n` broadcast streams, a few hundred at a time (inside a `LocalSet`).
async fn subscribe(server: &ServerProcess, n: usize) -> Vec<load::Conn> {
    let mut streams = Vec::with_capacity(n);
    while streams.len() < n {
        let batch = (n - streams.len()).min(200);
        let opening: Vec<_> = (0..batch)
            .map(|_| tokio::task::spawn_local(load::open(server.addr, "/broadcast")))
            .collect();
        for stream in opening {
            streams.push(stream.await.expect("opens"));
        }
    }
    load::wait_subscribers(server.addr, n).await;
    streams
}

fn s1(kind: &str) -> Measured {
    let n_env: usize = env_or("BENCH_S1_N", 10_000);
    #[allow(non_snake_case)]
    let N = n_env;
    let server = ServerProcess::start(kind);
    let local = tokio::task::LocalSet::new();
    runtime().block_on(local.run_until(async {
        std::thread::sleep(Duration::from_millis(300));
        let before = server.rss();
        let streams = subscribe(&server, N).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = server.rss();
        drop(streams);
        Measured {
            delivered_share: 1.0,
            memory_per_connection: Some(after.saturating_sub(before) as f64 / N as f64),
            ..Measured::default()
        }
    }))
}

/// `subscribers` streams read while the server publishes `rate` events per
/// second of `size` bytes for `seconds`.
fn broadcast(kind: &str, subscribers: usize, rate: u64, size: usize, seconds: u64) -> Measured {
    let seconds = seconds * env_or("BENCH_SCALE", 1);
    let count = rate * seconds;
    let server = ServerProcess::start(kind);
    let local = tokio::task::LocalSet::new();
    runtime().block_on(local.run_until(async {
        let streams = subscribe(&server, subscribers).await;
        let seen: Shared = Rc::new(RefCell::new(load::Seen::default()));
        let readers: Vec<_> = streams
            .into_iter()
            .map(|stream| {
                tokio::task::spawn_local(load::read(stream, count, 4096, true, seen.clone()))
            })
            .collect();
        let cpu = server.cpu();
        let redis_cpu = redis::cpu();
        load::get_text(
            server.addr,
            &format!("/start?rate={rate}&size={size}&count={count}"),
        )
        .await;
        let deadline = Duration::from_secs(seconds + 30);
        let _ = tokio::time::timeout(deadline, async {
            for reader in readers {
                let _ = reader.await;
            }
        })
        .await;
        let cpu = server.cpu() - cpu;
        let redis_cpu = redis::cpu()
            .zip(redis_cpu)
            .map(|(after, before)| after - before);
        let mut seen = seen.borrow_mut();
        if seen.wire_bytes != seen.plain_bytes {
            eprintln!(
                "   {kind}: {} bytes on the wire for {} of events: {:.3}",
                seen.wire_bytes,
                seen.plain_bytes,
                seen.wire_bytes as f64 / seen.plain_bytes.max(1) as f64
            );
        }
        let expected = count * subscribers as u64;
        let mut latencies: Vec<f64> = seen.latencies.drain(..).map(f64::from).collect();
        latencies.sort_by(f64::total_cmp);
        let at = |q| quantile(&latencies, q);
        Measured {
            delivered_share: seen.events as f64 / expected as f64,
            cpu_per_delivery_ns: Some(cpu.as_nanos() as f64 / seen.events.max(1) as f64),
            // Only the Redis server's runs use it; the other's stays empty.
            redis_cpu_per_delivery_ns: redis_cpu
                .filter(|_| kind == "redis")
                .map(|cpu| cpu.as_nanos() as f64 / seen.events.max(1) as f64),
            p50_us: at(0.5),
            p99_us: at(0.99),
            max_us: latencies.last().copied(),
            ..Measured::default()
        }
    }))
}

fn s2(kind: &str) -> Measured {
    broadcast(kind, 10_000, 10, 100, 10)
}

fn s3(kind: &str) -> Measured {
    broadcast(kind, 100, 10_000, 100, 5)
}

fn s4(kind: &str) -> Measured {
    broadcast(kind, 10, 1_000, 100, 5)
}

/// `n` clients opening streams at once against a server listening with its
/// default backlog: 4,096 for the project (`Server::serve`), tokio's 1,024
/// for axum (`TcpListener::bind`), or `BENCH_STORM_AXUM_BACKLOG`.
fn storm(kind: &str, n: usize) -> Measured {
    let backlog = match kind {
        "axum" => env_or("BENCH_STORM_AXUM_BACKLOG", 1024),
        _ => sse_runtime::server::DEFAULT_BACKLOG,
    };
    // Read by the server process as it starts (edition 2021: safe).
    std::env::set_var("SSE_BENCH_BACKLOG", backlog.to_string());
    let server = ServerProcess::start(kind);
    std::env::remove_var("SSE_BENCH_BACKLOG");
    let local = tokio::task::LocalSet::new();
    runtime().block_on(local.run_until(async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let cpu = server.cpu();
        let (times, streams) = load::storm(server.addr, n).await;
        let cpu = server.cpu() - cpu;
        let mut times: Vec<f64> = times.iter().map(|t| t.as_micros() as f64).collect();
        times.sort_by(f64::total_cmp);
        let at = |q| quantile(&times, q);
        drop(streams);
        Measured {
            delivered_share: times.len() as f64 / n as f64,
            cpu_per_delivery_ns: Some(cpu.as_nanos() as f64 / n as f64),
            p50_us: at(0.5),
            p99_us: at(0.99),
            max_us: at(1.0),
            ..Measured::default()
        }
    }))
}

/// The `q` quantile of `sorted` (nearest rank below), if it has any value.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    sorted
        .get(((sorted.len() as f64 - 1.0) * q) as usize)
        .copied()
}

fn s7(kind: &str) -> Measured {
    storm(kind, 5_000)
}

fn s8(kind: &str) -> Measured {
    storm(kind, 10_000)
}

fn s6(kind: &str) -> Measured {
    broadcast(kind, 1_000, 1_000, 100, 10)
}

fn s5(kind: &str) -> Measured {
    const COUNT: u64 = 1_000_000;
    let server = ServerProcess::start(kind);
    let local = tokio::task::LocalSet::new();
    runtime().block_on(local.run_until(async {
        let seen: Shared = Rc::new(RefCell::new(load::Seen::default()));
        let start = Instant::now();
        let stream = load::open(server.addr, &format!("/hot?count={COUNT}&size=64")).await;
        load::read(stream, COUNT, 64 * 1024, false, seen.clone()).await;
        let elapsed = start.elapsed();
        let seen = seen.borrow();
        Measured {
            delivered_share: seen.events as f64 / COUNT as f64,
            events_per_second: Some(seen.events as f64 / elapsed.as_secs_f64()),
            ..Measured::default()
        }
    }))
}

fn median_and_range(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

fn report(scenario: &Scenario, results: &[Vec<Measured>; 2]) -> Vec<String> {
    let mut rows = Vec::new();
    for (measure, get, target, lower_is_better) in scenario.measures {
        // A side that does not measure it (Redis's CPU on the in-memory
        // server) shows a dash; a measure neither side has is left out.
        let stats = results.clone().map(|runs| {
            let mut values: Vec<f64> = runs.iter().filter_map(get).collect();
            (!values.is_empty()).then(|| median_and_range(&mut values))
        });
        let [Some(first), second] = stats else {
            continue;
        };
        let cell =
            |(median, low, high): (f64, f64, f64)| format!("{median:.0} ({low:.0}–{high:.0})");
        let Some(second) = second else {
            rows.push(format!(
                "| {} | {measure} | {} | — | | |",
                scenario.name,
                cell(first)
            ));
            continue;
        };
        let ratio = first.0 / second.0;
        let verdict = match target {
            None => String::new(),
            Some(target) => {
                let met = if *lower_is_better {
                    ratio <= *target
                } else {
                    ratio >= *target
                };
                let sign = if *lower_is_better { "≤" } else { "≥" };
                format!(
                    "{sign} {target} {}",
                    if met { "met" } else { "**not met**" }
                )
            }
        };
        rows.push(format!(
            "| {} | {measure} | {} | {} | {ratio:.2} | {verdict} |",
            scenario.name,
            cell(first),
            cell(second),
        ));
    }
    let share = |runs: &Vec<Measured>| runs.iter().map(|m| m.delivered_share).fold(1.0, f64::min);
    rows.push(format!(
        "| {} | delivered (lowest run) | {:.1} % | {:.1} % | | 100 % |",
        scenario.name,
        share(&results[0]) * 100.0,
        share(&results[1]) * 100.0,
    ));
    rows
}
