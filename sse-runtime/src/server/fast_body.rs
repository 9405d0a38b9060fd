//! The request body of a request the HTTP/1.1 fast path read: its framing
//! (`Content-Length`, or chunked transfer coding, RFC 9112 §6 and §7.1)
//! decoded from the connection, with `100 Continue` sent when it is first
//! read. It is an `http_body::Body`, so the router reads it under the
//! route's limit and deadline exactly as it reads hyper's.
//!
//! Every byte read after the head is kept (`raw`), so that a request the
//! router does not answer with a stream can be handed to hyper whole, head
//! and body as the client sent them; what follows the body (a pipelined
//! request) is never read as part of it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How a request's body is delimited, from its head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    /// No body (no `Content-Length`, or `Content-Length: 0`).
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The longest chunk-size line (with its extensions) or trailer field line
/// read before the body is refused as malformed.
const MAX_LINE: usize = 4096;

/// How many framing bytes (size lines, extensions, trailers) a chunked body
/// may carry beyond one per data byte: bounds what `raw` can hold for a
/// body of a given size, whatever the client sends.
const FRAMING_ALLOWANCE: usize = 64 * 1024;

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Where the decoder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// `n` more bytes of a `Content-Length` body.
    Length(u64),
    /// At a chunk-size line.
    Size,
    /// `n` more bytes of a chunk's data, then its CRLF.
    Data(u64),
    /// At the CRLF after a chunk's data.
    DataEnd,
    /// In the trailer section, after the last chunk.
    Trailers,
    /// The body ended.
    Done,
}

/// A fast-path request's body, read from `stream` after the bytes already
/// read (`raw`, to which everything read is appended).
pub(super) struct FastBody<'a, Io> {
    stream: &'a mut Io,
    raw: &'a mut Vec<u8>,
    /// How far into `raw` the body is decoded.
    at: usize,
    state: State,
    /// How much of `100 Continue` is still to be written (the client asked
    /// for it, and waits for it before it sends the body).
    expect: &'static [u8],
    /// Framing bytes seen so far, and data bytes: the one bounds the other.
    framing: usize,
    data: usize,
}

impl<'a, Io> FastBody<'a, Io> {
    /// The body `framing` delimits, starting at `raw[0]`; `expect` if the
    /// client sent `Expect: 100-continue`.
    pub(super) fn new(
        stream: &'a mut Io,
        raw: &'a mut Vec<u8>,
        framing: Framing,
        expect: bool,
    ) -> Self {
        let state = match framing {
            Framing::None | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::Size,
        };
        Self {
            stream,
            raw,
            at: 0,
            state,
            expect: match expect && state != State::Done {
                true => CONTINUE,
                false => &[],
            },
            framing: 0,
            data: 0,
        }
    }
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed chunked body: {what}"),
    )
}

impl<Io: AsyncRead + AsyncWrite + Unpin> FastBody<'_, Io> {
    /// Decodes what `raw` holds: a data frame, the end (`Ready(None)`), or
    /// `Pending` when more bytes are needed.
    fn decode(&mut self) -> Poll<Option<io::Result<Bytes>>> {
        loop {
            let rest = &self.raw[self.at..];
            match self.state {
                State::Done => return Poll::Ready(None),
                State::Length(left) | State::Data(left) => {
                    if rest.is_empty() {
                        return Poll::Pending;
                    }
                    let take = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let data = Bytes::copy_from_slice(&rest[..take]);
                    self.at += take;
                    self.data += take;
                    let left = left - take as u64;
                    self.state = match self.state {
                        State::Length(_) if left == 0 => State::Done,
                        State::Length(_) => State::Length(left),
                        _ if left == 0 => State::DataEnd,
                        _ => State::Data(left),
                    };
                    return Poll::Ready(Some(Ok(data)));
                }
                State::Size => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        if let Err(err) = self.framed(used) {
                            return Poll::Ready(Some(Err(err)));
                        }
                        self.state = match size {
                            0 => State::Trailers,
                            n => State::Data(n),
                        };
                    }
                    Ok(httparse::Status::Partial) if rest.len() > MAX_LINE => {
                        return Poll::Ready(Some(Err(malformed("a chunk-size line is too long"))));
                    }
                    Ok(httparse::Status::Partial) => return Poll::Pending,
                    Err(_) => return Poll::Ready(Some(Err(malformed("an invalid chunk size")))),
                },
                State::DataEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        if let Err(err) = self.framed(2) {
                            return Poll::Ready(Some(Err(err)));
                        }
                        self.state = State::Size;
                    }
                    [] | [b'\r'] => return Poll::Pending,
                    _ => {
                        return Poll::Ready(Some(Err(malformed(
                            "a chunk's data is not followed by CRLF",
                        ))))
                    }
                },
                State::Trailers => match memchr::memmem::find(rest, b"\r\n") {
                    Some(0) => {
                        self.at += 2;
                        self.state = State::Done;
                    }
                    Some(end) if end <= MAX_LINE => {
                        if let Err(err) = self.framed(end + 2) {
                            return Poll::Ready(Some(Err(err)));
                        }
                    }
                    Some(_) => {
                        return Poll::Ready(Some(Err(malformed("a trailer line is too long"))))
                    }
                    None if rest.len() > MAX_LINE => {
                        return Poll::Ready(Some(Err(malformed("a trailer line is too long"))));
                    }
                    None => return Poll::Pending,
                },
            }
        }
    }

    /// Consumes `n` framing bytes, within the allowance.
    fn framed(&mut self, n: usize) -> io::Result<()> {
        self.at += n;
        self.framing += n;
        if self.framing > self.data + FRAMING_ALLOWANCE {
            return Err(malformed("more framing than data"));
        }
        Ok(())
    }

    /// Writes what is left of `100 Continue`.
    fn poll_continue(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.expect.is_empty() {
            match Pin::new(&mut *self.stream).poll_write(cx, self.expect) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.expect = &self.expect[n..],
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Pin::new(&mut *self.stream).poll_flush(cx)
    }

    /// Reads more of the connection into `raw`.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let filled = self.raw.len();
        self.raw.resize(filled + 8 * 1024, 0);
        let mut buf = ReadBuf::new(&mut self.raw[filled..]);
        let read = Pin::new(&mut *self.stream).poll_read(cx, &mut buf);
        let got = buf.filled().len();
        self.raw.truncate(filled + got);
        match read {
            Poll::Ready(Ok(())) if got == 0 => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client closed the connection before the body ended",
            ))),
            other => other,
        }
    }
}

impl<Io: AsyncRead + AsyncWrite + Unpin> http_body::Body for FastBody<'_, Io> {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if let Err(err) = std::task::ready!(this.poll_continue(cx)) {
            return Poll::Ready(Some(Err(err)));
        }
        loop {
            match this.decode() {
                Poll::Ready(Some(Ok(data))) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
            if let Err(err) = std::task::ready!(this.poll_fill(cx)) {
                return Poll::Ready(Some(Err(err)));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.state == State::Done
    }

    fn size_hint(&self) -> SizeHint {
        match self.state {
            State::Done => SizeHint::with_exact(0),
            State::Length(left) => SizeHint::with_exact(left),
            _ => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;
    use proptest::prelude::*;

    use super::*;

    /// Decodes `sent` as a body of `framing`: what it decoded, or the error,
    /// and what was left after it.
    fn decode(sent: &[u8], framing: Framing) -> (Result<Vec<u8>, String>, Vec<u8>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (mut client, mut server) = tokio::io::duplex(64 * 1024);
            tokio::io::AsyncWriteExt::write_all(&mut client, sent)
                .await
                .unwrap();
            drop(client);
            let mut raw = Vec::new();
            let mut body = FastBody::new(&mut server, &mut raw, framing, false);
            let mut decoded = Vec::new();
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(frame) => decoded.extend_from_slice(&frame.into_data().unwrap()),
                    Err(err) => return (Err(err.to_string()), Vec::new()),
                }
            }
            let at = body.at;
            (Ok(decoded), raw[at..].to_vec())
        })
    }

    fn consumed_rest(sent: &[u8], framing: Framing) -> Vec<u8> {
        decode(sent, framing).1
    }

    #[test]
    fn a_length_body_ends_at_its_length() {
        let (body, _) = decode(b"hello", Framing::Length(5));
        assert_eq!(body.unwrap(), b"hello");
        assert_eq!(
            consumed_rest(b"helloGET / HTTP/1.1\r\n", Framing::Length(5)),
            b"GET / HTTP/1.1\r\n"
        );
        let (short, _) = decode(b"hel", Framing::Length(5));
        assert!(short.unwrap_err().contains("closed"));
    }

    #[test]
    fn chunked_bodies_decode_with_extensions_and_trailers() {
        let sent =
            b"5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nx-checksum: 1\r\n\r\nPIPELINED";
        let (body, _) = decode(sent, Framing::Chunked);
        assert_eq!(body.unwrap(), b"hello world");
        assert_eq!(consumed_rest(sent, Framing::Chunked), b"PIPELINED");
        let (empty, _) = decode(b"0\r\n\r\n", Framing::Chunked);
        assert_eq!(empty.unwrap(), b"");
    }

    #[test]
    fn malformed_chunked_bodies_are_errors() {
        for sent in [
            &b"z\r\nhello\r\n0\r\n\r\n"[..],
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\r\nhello\r\n",
            b"ffffffffffffffffff\r\n",
        ] {
            let (body, _) = decode(sent, Framing::Chunked);
            assert!(body.is_err(), "{:?}", String::from_utf8_lossy(sent));
        }
        let long_line = [&[b'1'; 1][..], &[b';'; 8000][..]].concat();
        assert!(decode(&long_line, Framing::Chunked).0.is_err());
    }

    proptest! {
        /// Any body, chunked any way, decodes to itself and leaves exactly
        /// what followed it.
        #[test]
        fn chunked_round_trip(
            body in proptest::collection::vec(any::<u8>(), 0..2000),
            cuts in proptest::collection::vec(1usize..300, 0..20),
            after in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let mut sent = Vec::new();
            let mut rest = &body[..];
            for cut in cuts.iter().copied().chain(std::iter::repeat(64)) {
                if rest.is_empty() {
                    break;
                }
                let n = cut.min(rest.len());
                sent.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                sent.extend_from_slice(&rest[..n]);
                sent.extend_from_slice(b"\r\n");
                rest = &rest[n..];
            }
            sent.extend_from_slice(b"0\r\n\r\n");
            let whole = [&sent[..], &after[..]].concat();
            let (decoded, _) = decode(&whole, Framing::Chunked);
            prop_assert_eq!(decoded.unwrap(), body);
            prop_assert_eq!(consumed_rest(&whole, Framing::Chunked), after);
        }

        /// Any bytes as a chunked body: decoded or refused, never a panic.
        #[test]
        fn any_bytes_decode_or_fail(sent in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode(&sent, Framing::Chunked);
        }
    }
}
