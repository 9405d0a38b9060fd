//! The HTTP/1.1 fast path for event streams.
//!
//! hyper keeps two 8 KiB buffers per HTTP/1 connection for as long as it
//! lives: a read buffer kept after the request head and a write buffer. For a
//! stream that idles for hours that is most of its memory. So the server
//! reads the first request's head itself (and its body, if it has one:
//! `fast_body`), and when the router answers it with a stream it writes the
//! response and the chunked stream itself, straight from the session's
//! frames, with no buffer of its own. Anything else (other answers,
//! HTTP/1.0, HTTP/2, upgrades, a bodiless request with more pipelined after
//! it, anything that does not parse) goes to hyper with the bytes already
//! read put back in front.
//!
//! Whether a head is complete is decided by parsing it (`httparse`, as hyper
//! does), not by looking for a blank line: a head with bare LF line ends is
//! complete when its LF LF arrives, and bytes that can never be HTTP (a TLS
//! ClientHello on the plain port) go to hyper at once, which answers 400.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use http_body::Body;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf};
use tokio_util::sync::CancellationToken;

pub(super) use super::fast_body::{FastBody, Framing};
use super::write_timeout::WriteTimeout;
use crate::methods::Methods;
use crate::outbox::StreamBody;
use crate::router::stream_headers;

/// The most a request head may take before it is left to hyper (which
/// answers 431).
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;

/// The most a client may send during a stream (a pipelined request, say:
/// it can never be answered, since the stream keeps the connection). Read and
/// dropped up to this, so the connection sees the client leave; beyond it
/// the client is not speaking HTTP to us and its connection is closed,
/// instead of reading without limit.
const MAX_DISCARD: usize = 64 * 1024;

/// How many times a head is parsed before it is left to hyper as it is. A
/// head can only complete at an LF, so after the first bytes it is parsed
/// only when one arrives; this bounds the work a client trickling lines one
/// at a time can cause (each parse starts over) to a few megabytes.
const MAX_PARSES: usize = 128;

/// Reads until the first request head is complete or cannot be a request
/// head (or `MAX_HEAD` bytes, or whatever arrived before the peer closed, or
/// `MAX_PARSES` lines). `None` if nothing arrived.
pub(super) async fn read_head<Io: AsyncRead + Unpin>(stream: &mut Io) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(1024);
    let mut parses = 0;
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.len());
        }
        let start = buf.len();
        match stream.read_buf(&mut buf).await {
            Ok(0) => return (!buf.is_empty()).then_some(buf),
            Ok(_) => {}
            Err(_) => return None,
        }
        if buf.len() >= MAX_HEAD || parses == MAX_PARSES {
            return Some(buf);
        }
        // The first bytes tell whether this is HTTP at all (a TLS ClientHello
        // is not); after them, only an LF can complete a head.
        if parses == 0 || memchr::memchr(b'\n', &buf[start..]).is_some() {
            parses += 1;
            if head_ended(&buf) {
                return Some(buf);
            }
        }
    }
}

/// Whether `buf` holds a complete request head, or bytes no more reading can
/// make one of (which hyper then answers).
fn head_ended(buf: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    !matches!(
        httparse::Request::new(&mut headers).parse(buf),
        Ok(httparse::Status::Partial)
    )
}

/// A request this path serves: its head, parsed, and how its body is
/// delimited.
pub(super) struct StreamRequest {
    pub(super) parts: http::request::Parts,
    /// Where the head ends in the bytes read: what follows is the body (and
    /// whatever the client sent after it).
    pub(super) head_len: usize,
    pub(super) framing: Framing,
    /// The client sent `Expect: 100-continue`.
    pub(super) expect: bool,
}

/// Parses `head` as an HTTP/1.1 request of a method a stream can be opened
/// with, with no body and nothing after it, or a body of one
/// `Content-Length` or chunked framing (and `Expect: 100-continue` at
/// most); anything else is hyper's to answer.
pub(super) fn parse(head: &[u8]) -> Option<StreamRequest> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(len) = request.parse(head).ok()? else {
        return None;
    };
    let method = http::Method::from_bytes(request.method?.as_bytes()).ok()?;
    if request.version != Some(1) || Methods::of(&method).is_none() {
        return None;
    }
    let mut builder = http::Request::builder()
        .method(method)
        .uri(request.path?)
        .version(http::Version::HTTP_11);
    let mut length = None;
    let mut chunked = false;
    let mut expect = false;
    for header in request.headers.iter() {
        let (name, value) = (header.name, header.value.trim_ascii());
        if name.eq_ignore_ascii_case("content-length") {
            // Digits alone, given once: a repeated or listed one (which
            // hyper checks and folds: found by the `fast_path` fuzz
            // target) is hyper's.
            if length.is_some() || value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
                return None;
            }
            length = Some(std::str::from_utf8(value).ok()?.parse::<u64>().ok()?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if chunked || !value.eq_ignore_ascii_case(b"chunked") {
                return None;
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case("expect") {
            if expect || !value.eq_ignore_ascii_case(b"100-continue") {
                return None;
            }
            expect = true;
        } else if name.eq_ignore_ascii_case("upgrade") {
            return None;
        }
        builder = builder.header(name, header.value);
    }
    let framing = match (length, chunked) {
        // Both: a request smuggling attempt, or a confused proxy; hyper's.
        (Some(_), true) => return None,
        (Some(0) | None, false) => Framing::None,
        (Some(n), false) => Framing::Length(n),
        (None, true) => Framing::Chunked,
    };
    // A bodiless request with more bytes after it was pipelined: hyper's.
    if framing == Framing::None && len != head.len() {
        return None;
    }
    let (parts, ()) = builder.body(()).ok()?.into_parts();
    Some(StreamRequest {
        parts,
        head_len: len,
        framing,
        expect,
    })
}

/// A stream's response head: `status`, `headers`, then always
/// `connection: close` (the connection is the stream's for its whole life)
/// and chunked framing. Headers that are about the connection or the framing
/// (which this path decides) are left out, whoever set them.
pub(super) fn response_head<'a>(
    status: http::StatusCode,
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Bytes {
    const OURS: [&str; 6] = [
        "connection",
        "transfer-encoding",
        "content-length",
        "keep-alive",
        "upgrade",
        "date",
    ];
    let mut head = Vec::with_capacity(256);
    let reason = status.canonical_reason().unwrap_or("");
    head.extend_from_slice(format!("HTTP/1.1 {} {reason}\r\n", status.as_u16()).as_bytes());
    for (name, value) in headers {
        if OURS.iter().any(|ours| name.eq_ignore_ascii_case(ours)) {
            continue;
        }
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    head.extend_from_slice(
        format!("connection: close\r\ntransfer-encoding: chunked\r\ndate: {date}\r\n\r\n")
            .as_bytes(),
    );
    Bytes::from(head)
}

/// Whether `response` is a stream this path writes: `200` with
/// `text/event-stream` (what a layer answers by itself goes to hyper).
pub(super) fn is_stream<B>(response: &http::Response<B>) -> bool {
    let content_type = response.headers().get(http::header::CONTENT_TYPE);
    response.status() == http::StatusCode::OK
        && content_type.is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"))
}

/// The head of a stream the router opened, with no layer in between.
pub(super) fn stream_head(body: &StreamBody) -> Bytes {
    let headers = stream_headers(body).map(|(name, value)| (name, value.as_bytes()));
    response_head(http::StatusCode::OK, headers)
}

/// Writes the response and the stream's frames, chunked, until the stream
/// ends (then the last chunk), the client goes away, or `force` is cancelled.
/// Nothing is buffered here: each frame is written from the session's bytes.
/// A client that takes nothing for `write_timeout` is dropped (the timeout
/// tells the stream why). Once the
/// server is `draining`, a finished stream's connection closes without
/// waiting for the client.
pub(super) async fn serve_stream<Io, B>(
    stream: Io,
    head: Bytes,
    body: B,
    write_timeout: WriteTimeout,
    draining: &CancellationToken,
    force: &CancellationToken,
) where
    Io: AsyncRead + AsyncWrite + Unpin,
    B: Body<Data = Bytes> + Unpin,
{
    let mut connection = StreamConnection {
        stream,
        body,
        out: Outgoing::default(),
        finished: false,
        unflushed: false,
        write_timeout,
        discarded: 0,
    };
    connection.out.bufs.push(head);
    // Made once and kept: a delivery is one wake-up and one poll of this,
    // with no futures built and torn down around it.
    let force = force.cancelled();
    tokio::pin!(force);
    let done = std::future::poll_fn(|cx| {
        if force.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Done::Gone);
        }
        connection.poll(cx)
    })
    .await;
    // Closing a socket with unread bytes (a pipelined request, say) resets
    // the connection, and a reset can cost the client the stream's last
    // bytes before it reads them. So, as RFC 9112 §9.6 asks, close our side
    // first and give the client a moment to close its own.
    if done == Done::Finished {
        let StreamConnection {
            mut stream,
            body,
            mut discarded,
            ..
        } = connection;
        drop(body);
        tokio::select! {
            () = linger(&mut stream, &mut discarded) => {}
            () = tokio::time::sleep(LINGER) => {}
            () = draining.cancelled() => {}
            () = force => {}
        }
    }
}

/// How many frames one poll writes before it lets other tasks run: a
/// session that always has more would otherwise hold the worker.
const FRAMES_PER_POLL: usize = 32;

/// How long a finished stream's connection waits for the client to close
/// its side.
const LINGER: Duration = Duration::from_secs(2);

/// How a stream's connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Done {
    /// The stream ended and all of it was written.
    Finished,
    /// The client left, the socket failed, or the server closed it.
    Gone,
}

/// A connection serving one stream: the connection, the stream's body, and
/// what waits to be written. Generic over the body so that the common case
/// (a stream the router opened, no layer in between) polls it directly, and
/// over the connection (TCP, TLS, a Unix socket).
struct StreamConnection<Io, B> {
    stream: Io,
    body: B,
    out: Outgoing,
    /// The body ended; the last chunk is queued.
    finished: bool,
    /// Written since the last flush: a TLS connection may hold the end of
    /// a record until it is flushed (a socket holds nothing).
    unflushed: bool,
    write_timeout: WriteTimeout,
    /// Bytes the client sent during the stream, read and dropped.
    discarded: usize,
}

impl<Io, B> StreamConnection<Io, B>
where
    Io: AsyncRead + AsyncWrite + Unpin,
    B: Body<Data = Bytes> + Unpin,
{
    /// Writes what is ready; ready when the connection is done with.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Done> {
        if client_left(&mut self.stream, cx, &mut self.discarded) {
            return Poll::Ready(Done::Gone);
        }
        for _ in 0..FRAMES_PER_POLL {
            // Write first and wait only if the connection did not take it
            // all: most frames go out in the poll that produced them.
            while !self.out.is_empty() {
                match self.out.write_some(&mut self.stream, cx) {
                    Poll::Ready(Ok(_)) => {
                        self.write_timeout.progressed();
                        self.unflushed = true;
                    }
                    Poll::Ready(Err(_)) => return Poll::Ready(Done::Gone),
                    Poll::Pending => return self.stuck(cx),
                }
            }
            if self.finished || self.unflushed {
                match Pin::new(&mut self.stream).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.unflushed = false,
                    Poll::Ready(Err(_)) => return Poll::Ready(Done::Gone),
                    Poll::Pending => return self.stuck(cx),
                }
            }
            if self.finished {
                return Poll::Ready(Done::Finished);
            }
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.out.chunk(data);
                    }
                }
                // A layer's body failed: the stream cannot go on, and ending
                // it with the last chunk would say it ended well.
                Poll::Ready(Some(Err(_))) => return Poll::Ready(Done::Gone),
                Poll::Ready(None) => {
                    self.out.bufs.push(Bytes::from_static(b"0\r\n\r\n"));
                    self.finished = true;
                }
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// The connection takes nothing now (the task is woken when it does):
    /// done once that has lasted the write timeout.
    fn stuck(&mut self, cx: &mut Context<'_>) -> Poll<Done> {
        if self.write_timeout.expired(cx) {
            tracing::debug!("the client took nothing for the write timeout");
            return Poll::Ready(Done::Gone);
        }
        Poll::Pending
    }
}

/// Whether the peer closed its side (or the connection failed, or it sent
/// more than `MAX_DISCARD` in all); with the task registered to hear of it
/// otherwise. Bytes it sends meanwhile are read and dropped, a bounded
/// amount per call, and counted in `discarded`.
fn client_left<Io: AsyncRead + Unpin>(
    stream: &mut Io,
    cx: &mut Context<'_>,
    discarded: &mut usize,
) -> bool {
    let mut scratch = [0u8; 1024];
    for _ in 0..16 {
        let mut buf = ReadBuf::new(&mut scratch);
        match Pin::new(&mut *stream).poll_read(cx, &mut buf) {
            Poll::Pending => return false,
            Poll::Ready(Err(_)) => return true,
            Poll::Ready(Ok(())) if buf.filled().is_empty() => return true,
            Poll::Ready(Ok(())) => {
                *discarded += buf.filled().len();
                if *discarded > MAX_DISCARD {
                    tracing::debug!(
                        "the client sent more than {MAX_DISCARD} bytes during a stream; closing"
                    );
                    return true;
                }
            }
        }
    }
    // Still more to drop: come back after other tasks had their turn.
    cx.waker().wake_by_ref();
    false
}

/// Closes our side, then reads and drops until the client closes its own.
async fn linger<Io: AsyncRead + AsyncWrite + Unpin>(stream: &mut Io, discarded: &mut usize) {
    let closed = std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_shutdown(cx)).await;
    if closed.is_err() {
        return;
    }
    std::future::poll_fn(|cx| match client_left(stream, cx, discarded) {
        true => Poll::Ready(()),
        false => Poll::Pending,
    })
    .await;
}

/// What waits to be written: the response head, or one chunk (its size line,
/// its data and CRLF), or the last chunk. Nothing is allocated per chunk: the
/// size line is formatted in place and the data is the session's own bytes.
#[derive(Default)]
struct Outgoing {
    /// `<hex length>\r\n`; `size[size_at..size_end]` is still to be written.
    size: [u8; 18],
    size_at: usize,
    size_end: usize,
    /// Written after the size line, in order.
    bufs: Vec<Bytes>,
}

impl Outgoing {
    fn is_empty(&self) -> bool {
        self.size_at == self.size_end && self.bufs.is_empty()
    }

    /// Queues `data` as one chunk (an empty frame would end the stream).
    fn chunk(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0u8; 16];
        let mut at = digits.len();
        let mut n = data.len();
        loop {
            at -= 1;
            digits[at] = HEX[n & 0xf];
            n >>= 4;
            if n == 0 {
                break;
            }
        }
        let hex = &digits[at..];
        self.size[..hex.len()].copy_from_slice(hex);
        self.size[hex.len()..hex.len() + 2].copy_from_slice(b"\r\n");
        self.size_at = 0;
        self.size_end = hex.len() + 2;
        self.bufs.push(data);
        self.bufs.push(Bytes::from_static(b"\r\n"));
    }

    /// Writes what the connection takes now, in one `writev`, and drops
    /// it; returns how many bytes that was. Pending (the task woken when the
    /// connection takes more) if it takes nothing.
    fn write_some<Io: AsyncWrite + Unpin>(
        &mut self,
        stream: &mut Io,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        let mut slices = [IoSlice::new(&[]); 4];
        let mut count = 0;
        if self.size_at < self.size_end {
            slices[0] = IoSlice::new(&self.size[self.size_at..self.size_end]);
            count = 1;
        }
        for buf in &self.bufs {
            if count == slices.len() {
                break;
            }
            slices[count] = IoSlice::new(buf);
            count += 1;
        }
        let mut written = match Pin::new(stream).poll_write_vectored(cx, &slices[..count]) {
            Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
            Poll::Pending => return Poll::Pending,
        };
        let total = written;
        let from_size = written.min(self.size_end - self.size_at);
        self.size_at += from_size;
        written -= from_size;
        let mut done = 0;
        for buf in &mut self.bufs {
            let take = written.min(buf.len());
            buf.advance(take);
            written -= take;
            if !buf.is_empty() {
                break;
            }
            done += 1;
        }
        self.bufs.drain(..done);
        Poll::Ready(Ok(total))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What `out` would put on the wire, in order.
    fn wire(out: &Outgoing) -> Vec<u8> {
        let mut bytes = out.size[out.size_at..out.size_end].to_vec();
        for buf in &out.bufs {
            bytes.extend_from_slice(buf);
        }
        bytes
    }

    /// Undoes chunked framing; `None` if `bytes` is not a whole chunk.
    fn unchunk(mut bytes: &[u8]) -> Option<Vec<u8>> {
        let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&bytes[..line_end]).ok()?, 16).ok()?;
        bytes = &bytes[line_end + 2..];
        (bytes.len() == size + 2 && bytes.ends_with(b"\r\n")).then(|| bytes[..size].to_vec())
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_go_to_hyper_without_panicking(head in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&head);
        }

        #[test]
        fn damaged_heads_parse_or_go_to_hyper_without_panicking(
            damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let mut head = b"GET /events/1?x=%20y HTTP/1.1\r\nHost: a\r\nLast-Event-ID: 7\r\n\r\n".to_vec();
            for (at, byte) in damage {
                let at = at.index(head.len());
                head[at] = byte;
            }
            let _ = parse(&head);
        }

        #[test]
        fn every_frame_is_one_exact_chunk(data in proptest::collection::vec(any::<u8>(), 1..70_000)) {
            let mut out = Outgoing::default();
            out.chunk(Bytes::from(data.clone()));
            prop_assert_eq!(unchunk(&wire(&out)), Some(data));
        }

        #[test]
        fn plain_gets_keep_their_target_and_headers(
            path in "/[a-z0-9/._~%-]{0,40}",
            query in proptest::option::of("[a-z0-9=&]{0,20}"),
            headers in proptest::collection::vec(("x-[a-z]{1,10}", "[ -~]{0,30}"), 0..8),
        ) {
            let target = match &query {
                Some(query) => format!("{path}?{query}"),
                None => path.clone(),
            };
            let mut head = format!("GET {target} HTTP/1.1\r\nHost: a\r\n");
            for (name, value) in &headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let request = parse(head.as_bytes()).expect("a plain GET takes the fast path");
            prop_assert_eq!(request.parts.uri.to_string(), target);
            for (name, value) in &headers {
                // Values are compared trimmed: HTTP drops the spaces around them.
                let got: Vec<_> = request.parts.headers.get_all(name.as_str()).iter().collect();
                prop_assert!(got.iter().any(|v| v.as_bytes() == value.trim().as_bytes()), "{name}");
            }
        }
    }

    /// A body of one framing is read here; anything hyper must check or
    /// fold (found by the `fast_path` fuzz target: a repeated
    /// `content-length`, which hyper folds into one header) is hyper's.
    #[test]
    fn bodies_of_one_framing_take_the_fast_path() {
        let head = |extra: &str| format!("POST / HTTP/1.1\r\nhost: a\r\n{extra}\r\n");
        let framing = |extra: &str| parse(head(extra).as_bytes()).map(|r| (r.framing, r.expect));
        assert_eq!(
            framing("content-length: 0\r\n"),
            Some((Framing::None, false))
        );
        assert_eq!(
            framing("content-length: 12\r\n"),
            Some((Framing::Length(12), false))
        );
        assert_eq!(
            framing("transfer-encoding: Chunked\r\n"),
            Some((Framing::Chunked, false))
        );
        assert_eq!(
            framing("content-length: 3\r\nexpect: 100-continue\r\n"),
            Some((Framing::Length(3), true))
        );
        for declined in [
            "content-length: 0\r\ncontent-length: 0\r\n",
            "content-length: 0, 0\r\n",
            "content-length: +1\r\n",
            "content-length: 99999999999999999999999\r\n",
            "content-length: 3\r\ntransfer-encoding: chunked\r\n",
            "transfer-encoding: gzip, chunked\r\n",
            "transfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n",
            "expect: 200-ok\r\n",
        ] {
            assert!(framing(declined).is_none(), "{declined}");
        }
        // What follows a body is not part of the head.
        let sent = b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\nhiGET / HTTP/1.1\r\n\r\n";
        let request = parse(sent).unwrap();
        assert_eq!(&sent[request.head_len..request.head_len + 2], b"hi");
    }

    #[test]
    fn chunk_size_lines_are_lowercase_hex() {
        for (len, line) in [
            (1, "1\r\n"),
            (15, "f\r\n"),
            (16, "10\r\n"),
            (4096, "1000\r\n"),
        ] {
            let mut out = Outgoing::default();
            out.chunk(Bytes::from(vec![b'x'; len]));
            assert_eq!(&out.size[out.size_at..out.size_end], line.as_bytes());
            assert_eq!(out.bufs.len(), 2);
        }
        let mut out = Outgoing::default();
        out.chunk(Bytes::new());
        assert!(out.is_empty());
    }

    #[test]
    fn plain_gets_take_the_fast_path() {
        let head = b"GET /events?x=1 HTTP/1.1\r\nHost: a\r\nLast-Event-ID: 7\r\n\r\n";
        let request = parse(head).expect("a stream request");
        assert_eq!(request.parts.uri, "/events?x=1");
        assert_eq!(request.parts.headers["last-event-id"], "7");
        assert!(parse(b"GET /e HTTP/1.1\r\nContent-Length: 0\r\n\r\n").is_some());
    }

    #[test]
    fn everything_else_goes_to_hyper() {
        for head in [
            &b"HEAD /e HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"OPTIONS /e HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /e HTTP/1.0\r\n\r\n",
            b"POST /e HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
            b"GET /e HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            b"GET /e HTTP/1.1\r\n\r\nGET /f HTTP/1.1\r\n\r\n",
            b"GET /e HTTP/1.1\r\nHost: a\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"GET /e HTTP/1.1\r\nBad Header: x\r\n\r\n",
            b"\x16\x03\x01 not http",
        ] {
            assert!(parse(head).is_none(), "{:?}", String::from_utf8_lossy(head));
        }
    }
}
