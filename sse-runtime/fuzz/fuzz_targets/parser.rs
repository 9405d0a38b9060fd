//! The client's event-stream parser on arbitrary bytes: it must never panic,
//! and cutting the stream into chunks must never change what it yields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_runtime::client::{Item, Parser};

/// Everything the parser yields for `chunks`, then its last event ID.
fn run<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> (Vec<Item>, Result<(), String>, String) {
    // Small limits, so that the fuzzer reaches the limit paths too.
    let mut parser = Parser::new().max_line_len(512).max_event_size(1024);
    let mut result = Ok(());
    for chunk in chunks {
        if let Err(err) = parser.feed(chunk) {
            result = Err(err.to_string());
            break;
        }
    }
    parser.finish();
    let mut frames = Vec::new();
    while let Some(frame) = parser.next_item() {
        frames.push(frame);
    }
    (frames, result, parser.last_event_id().to_owned())
}

fuzz_target!(|input: &[u8]| {
    // The first byte chooses the chunk size for the rest.
    let Some((&size, stream)) = input.split_first() else {
        return;
    };
    let whole = run(std::iter::once(stream));
    let chunked = run(stream.chunks(usize::from(size % 16) + 1));
    match (&whole.1, &chunked.1) {
        // Within the limits: identical results.
        (Ok(()), Ok(())) => assert_eq!(whole, chunked),
        // A limit is a limit however the bytes arrive.
        (whole_err, chunked_err) => assert_eq!(whole_err, chunked_err),
    }
});
