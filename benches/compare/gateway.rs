//! S9, an LLM gateway: many unique streams, each its own producer. 2,000
//! clients each `POST /v1/chat/completions` with a JSON body and read a
//! stream of `chat.completion.chunk`s, 50 a second (one every 20 ms), each
//! serialized per token with serde (about 200 bytes), until `tokens` came.
//! Measured: the server's CPU per delivered token, the time to first token
//! (from the request's write to its first chunk) and memory per open stream.
//!
//! Both servers run the same generator: this project's `#[sse(method =
//! "POST")]` route with a `Json` body, and axum's `post(handler) -> Sse<_>`
//! with `Event::json_data`.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use memchr::memmem;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::load::{self, ServerProcess};
use crate::Measured;

/// What a client asks for.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
pub struct Ask {
    pub tokens: u64,
}

/// One token, as OpenAI's API frames it.
#[derive(Serialize)]
pub struct Chunk {
    id: &'static str,
    object: &'static str,
    created: u64,
    model: &'static str,
    choices: [Choice; 1],
}

#[derive(Serialize)]
struct Choice {
    index: u32,
    delta: Delta,
    finish_reason: Option<&'static str>,
    logprobs: Option<()>,
}

#[derive(Serialize)]
struct Delta {
    content: String,
}

/// The `n`th token of a stream.
pub fn chunk(n: u64) -> Chunk {
    Chunk {
        id: "chatcmpl-bench-0123456789abcdef",
        object: "chat.completion.chunk",
        created: 1_796_400_000,
        model: "gateway-bench-model",
        choices: [Choice {
            index: 0,
            delta: Delta {
                content: format!("token{n:06} "),
            },
            finish_reason: None,
            logprobs: None,
        }],
    }
}

/// The time between two tokens of a stream.
pub const TOKEN_EVERY: Duration = Duration::from_millis(20);

const STREAMS: usize = 2_000;
const TOKENS: u64 = 250; // 5 s at 50 a second

/// What one client saw.
#[derive(Default)]
struct Seen {
    first_token: Vec<Duration>,
    tokens: u64,
}

async fn client(addr: SocketAddr, tokens: u64, seen: Rc<RefCell<Seen>>) {
    let mut stream = load::connect_retrying(addr).await;
    let body = serde_json::to_string(&Ask { tokens }).expect("JSON");
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\naccept: application/json\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let asked = Instant::now();
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = vec![0xA5u8; 16 * 1024];
    let mut body = load::Dechunker::default();
    let (mut plain, mut pending) = (Vec::new(), Vec::new());
    let finder = memmem::Finder::new(b"\n\n");
    let mut got = 0;
    while got < tokens {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        body.feed(&buf[..n], &mut plain);
        pending.append(&mut plain);
        let mut start = 0;
        while let Some(end) = finder.find(&pending[start..]) {
            if pending[start..start + end].starts_with(b"data: ") {
                if got == 0 {
                    seen.borrow_mut().first_token.push(asked.elapsed());
                }
                got += 1;
            }
            start += end + 2;
        }
        pending.drain(..start);
    }
    seen.borrow_mut().tokens += got;
}

/// S9 against the `kind` server.
pub fn s9(kind: &str) -> Measured {
    let streams = crate::env_or("BENCH_S9_STREAMS", STREAMS);
    let tokens = TOKENS * crate::env_or("BENCH_SCALE", 1);
    let server = ServerProcess::start(kind);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    runtime.block_on(local.run_until(async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let rss = server.rss();
        let cpu = server.cpu();
        let seen = Rc::new(RefCell::new(Seen::default()));
        let clients: Vec<_> = (0..streams)
            .map(|_| tokio::task::spawn_local(client(server.addr, tokens, seen.clone())))
            .collect();
        // Memory with every stream open, halfway through.
        let half = TOKEN_EVERY * (tokens as u32 / 2);
        tokio::time::sleep(half).await;
        let open_rss = server.rss();
        for client in clients {
            let _ = client.await;
        }
        let cpu = server.cpu() - cpu;
        let seen = seen.borrow();
        let mut first: Vec<f64> = seen
            .first_token
            .iter()
            .map(|d| d.as_micros() as f64)
            .collect();
        first.sort_by(f64::total_cmp);
        let at = |q| crate::quantile(&first, q);
        Measured {
            delivered_share: seen.tokens as f64 / (tokens * streams as u64) as f64,
            memory_per_connection: Some(open_rss.saturating_sub(rss) as f64 / streams as f64),
            cpu_per_delivery_ns: Some(cpu.as_nanos() as f64 / seen.tokens.max(1) as f64),
            p50_us: at(0.5),
            p99_us: at(0.99),
            ..Measured::default()
        }
    }))
}
