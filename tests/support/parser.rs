//! A small, spec-following SSE parser (WHATWG HTML §9.2.6) for checking what the
//! encoder writes. It works on whole strings; the incremental client of a later
//! issue replaces it.

/// One dispatched `MessageEvent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dispatched {
    pub event_type: String,
    pub data: String,
    pub last_event_id: String,
}

/// Everything a stream did to an `EventSource`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub events: Vec<Dispatched>,
    pub retry_ms: Option<u64>,
    pub last_event_id: String,
    /// Every field name seen, in order (comments excluded).
    pub fields: Vec<String>,
    pub comments: Vec<String>,
}

/// Parses a complete stream: one leading BOM stripped, lines split at CRLF, CR
/// or LF, and anything after the last blank line discarded.
pub fn parse(stream: &str, initial_last_event_id: &str) -> Parsed {
    let stream = stream.strip_prefix('\u{feff}').unwrap_or(stream);
    let mut parsed = Parsed {
        last_event_id: initial_last_event_id.to_owned(),
        ..Parsed::default()
    };
    let mut data = String::new();
    let mut event_type = String::new();
    let mut id_buffer = initial_last_event_id.to_owned();
    for line in lines(stream) {
        if line.is_empty() {
            parsed.last_event_id = id_buffer.clone();
            if !data.is_empty() {
                data.pop();
                let event_type = if event_type.is_empty() {
                    "message".to_owned()
                } else {
                    event_type.clone()
                };
                parsed.events.push(Dispatched {
                    event_type,
                    data: std::mem::take(&mut data),
                    last_event_id: id_buffer.clone(),
                });
            }
            data.clear();
            event_type.clear();
            continue;
        }
        if let Some(comment) = line.strip_prefix(':') {
            parsed.comments.push(comment.to_owned());
            continue;
        }
        let (name, value) = match line.find(':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line, ""),
        };
        parsed.fields.push(name.to_owned());
        match name {
            "event" => event_type = value.to_owned(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => id_buffer = value.to_owned(),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                parsed.retry_ms = value.parse().ok().or(Some(u64::MAX));
            }
            _ => {}
        }
    }
    parsed
}

/// Complete lines only: a final line without its terminator is dropped.
fn lines(stream: &str) -> Vec<&str> {
    let bytes = stream.as_bytes();
    let mut lines = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&stream[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&stream[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    lines
}
