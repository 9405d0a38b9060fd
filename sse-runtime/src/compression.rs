//! Stream compression: opt-in, negotiated by `Accept-Encoding`, flushed at
//! every write so that no event waits in the compressor.
//!
//! Off by default: a compressed stream keeps a compressor per connection
//! (about 300 KB with gzip's 32 KB window and its tables; see
//! `BENCHMARKS.md`) and spends CPU per stream on every event, where an
//! uncompressed stream shares the hub's encoded bytes with every
//! subscriber. Worth it for large, repetitive events (JSON) to clients on
//! slow links; not for a quiet notification feed.
//!
//! ```no_run
//! use sse_runtime::compression::Compression;
//! use sse_runtime::sse;
//!
//! // One route, by its attribute:
//! #[sse("/ticks", compression = "gzip")]
//! async fn ticks(session: TicksSession) {}
//!
//! # async fn run() -> Result<(), sse_runtime::ServeError> {
//! // Or every route that does not say otherwise:
//! sse_runtime::Server::new()
//!     .compression(Compression::Gzip)
//!     .route(ticks)
//!     .serve("127.0.0.1:8080")
//!     .await
//! # }
//! ```
//!
//! A stream is compressed only when the client asked for the encoding
//! (`Accept-Encoding: gzip`, with a non-zero `q`); every write (a batch of
//! events, a heartbeat) is followed by a sync flush, so the client can
//! decode everything sent so far at once, and a heartbeat still arrives as
//! a heartbeat. A compressed stream's response says
//! `Content-Encoding: gzip`; every stream of a route with compression on says
//! `Vary: Accept-Encoding`.

use std::io::Write;

use bytes::Bytes;
use flate2::write::GzEncoder;
use http::HeaderValue;

/// Whether a route's streams are compressed, when the client accepts it.
///
/// ```
/// use sse_runtime::compression::Compression;
/// assert_eq!(Compression::default(), Compression::Off);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// Never compressed.
    #[default]
    Off,
    /// gzip (RFC 1952), at the level that favours speed over the last few
    /// percent of size: an event is compressed once per subscriber.
    Gzip,
}

impl Compression {
    /// The encoder for a stream whose request said `accept_encoding`, if
    /// this compression is on and the client accepts it.
    pub(crate) fn negotiate(self, accept_encoding: Option<&HeaderValue>) -> Option<Encoder> {
        match self {
            Compression::Off => None,
            Compression::Gzip => {
                let accepted = accept_encoding
                    .and_then(|value| value.to_str().ok())
                    .is_some_and(|value| accepts(value, "gzip"));
                accepted.then(Encoder::gzip)
            }
        }
    }
}

/// Whether an `Accept-Encoding` value accepts `coding`: named (or as `*`)
/// with a `q` above zero, and not refused by name when `*` accepts it.
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let mut named = None;
    let mut any = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|param| {
                let (key, value) = param.split_once('=')?;
                key.trim().eq_ignore_ascii_case("q").then_some(value.trim())
            })
            .next()
            .map_or(Some(1.0), |value| value.parse::<f32>().ok());
        // A `q` that does not parse is taken as a refusal.
        let acceptable = q.is_some_and(|q| q > 0.0);
        if name.eq_ignore_ascii_case(coding)
            || (coding == "gzip" && name.eq_ignore_ascii_case("x-gzip"))
        {
            named = Some(acceptable);
        } else if name == "*" {
            any = Some(acceptable);
        }
    }
    named.or(any).unwrap_or(false)
}

/// A stream's compressor.
pub(crate) struct Encoder {
    gzip: GzEncoder<Vec<u8>>,
    finished: bool,
}

impl Encoder {
    fn gzip() -> Self {
        Self {
            gzip: GzEncoder::new(Vec::new(), flate2::Compression::new(4)),
            finished: false,
        }
    }

    /// The `Content-Encoding` of what this writes.
    pub(crate) fn content_encoding(&self) -> &'static str {
        "gzip"
    }

    /// `batch`, compressed and flushed: everything written so far can be
    /// decoded from what this and the earlier calls returned.
    pub(crate) fn compress(&mut self, batch: &[u8]) -> Bytes {
        // Writing to a `Vec` cannot fail.
        let _ = self.gzip.write_all(batch);
        let _ = self.gzip.flush();
        Bytes::from(std::mem::take(self.gzip.get_mut()))
    }

    /// The end of the compressed stream (its trailer), once.
    pub(crate) fn finish(&mut self) -> Option<Bytes> {
        if self.finished {
            return None;
        }
        self.finished = true;
        let _ = self.gzip.try_finish();
        Some(Bytes::from(std::mem::take(self.gzip.get_mut())))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use proptest::prelude::*;

    use super::*;

    fn negotiated(value: &str) -> bool {
        let value = HeaderValue::from_str(value).unwrap();
        Compression::Gzip.negotiate(Some(&value)).is_some()
    }

    #[test]
    fn gzip_only_when_the_client_accepts_it() {
        for yes in [
            "gzip",
            "gzip, deflate, br",
            "br;q=1.0, gzip;q=0.5",
            "*",
            "x-gzip",
            "GZIP",
        ] {
            assert!(negotiated(yes), "{yes}");
        }
        for no in [
            "",
            "br",
            "identity",
            "gzip;q=0",
            "gzip;q=0.0, br",
            "*, gzip;q=0",
            "*;q=0",
            "gzip;q=x",
        ] {
            assert!(!negotiated(no), "{no}");
        }
        assert!(Compression::Gzip.negotiate(None).is_none());
        let gzip = HeaderValue::from_static("gzip");
        assert!(Compression::Off.negotiate(Some(&gzip)).is_none());
    }

    fn gunzip_prefix(bytes: &[u8]) -> Vec<u8> {
        // A stream cut after a sync flush decodes up to it, then reports the
        // missing end; what was decoded is what the client has.
        let mut decoder = flate2::read::MultiGzDecoder::new(bytes);
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match decoder.read(&mut buf) {
                Ok(0) | Err(_) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    proptest! {
        #[test]
        fn every_flush_makes_everything_so_far_decodable(
            batches in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..2000), 1..8),
        ) {
            let mut encoder = Compression::Gzip
                .negotiate(Some(&HeaderValue::from_static("gzip")))
                .unwrap();
            let mut wire = Vec::new();
            let mut plain = Vec::new();
            for batch in &batches {
                wire.extend_from_slice(&encoder.compress(batch));
                plain.extend_from_slice(batch);
                prop_assert_eq!(&gunzip_prefix(&wire), &plain);
            }
            wire.extend_from_slice(&encoder.finish().unwrap());
            prop_assert!(encoder.finish().is_none());
            let mut whole = Vec::new();
            flate2::read::GzDecoder::new(&wire[..]).read_to_end(&mut whole).unwrap();
            prop_assert_eq!(whole, plain);
        }

        #[test]
        fn any_accept_encoding_negotiates_without_panicking(value in "[ -~]{0,60}") {
            if let Ok(value) = HeaderValue::from_str(&value) {
                let _ = Compression::Gzip.negotiate(Some(&value));
            }
        }
    }
}
