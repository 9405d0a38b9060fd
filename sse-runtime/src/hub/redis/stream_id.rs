//! Redis stream ids: `<milliseconds>-<sequence>`, ordered as Redis orders them.

use std::fmt;

/// A stream entry id. Ordered by milliseconds, then sequence, as Redis
/// orders a stream; `0-0` comes before every entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct StreamId {
    ms: u64,
    seq: u64,
}

impl StreamId {
    /// Before every entry: where an empty or missing stream's reader starts.
    pub(super) const ZERO: Self = Self { ms: 0, seq: 0 };

    /// Reads a complete id (`<ms>-<seq>`, both decimal). Anything else
    /// (a bare `<ms>`, signs, spaces, overflow) is not an id of ours.
    pub(super) fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        Some(Self {
            ms: digits(ms)?,
            seq: digits(seq)?,
        })
    }

    /// Whether this id is the one right after `previous` in a stream of the
    /// backplane, whose ids are `<epoch>-<n>` with `n` counting from 1: the
    /// same epoch and the next number, or the first of a stream read from
    /// its start.
    pub(super) fn follows(self, previous: Self) -> bool {
        match previous == Self::ZERO {
            true => self.seq == 1,
            false => self.ms == previous.ms && previous.seq.checked_add(1) == Some(self.seq),
        }
    }

    /// Whether an id of this stream's numbering: the same epoch.
    pub(super) fn epoch(self) -> u64 {
        self.ms
    }

    /// The event number within the epoch.
    pub(super) fn number(self) -> u64 {
        self.seq
    }

    /// Reads an id as Redis sends it.
    pub(super) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Self::parse(std::str::from_utf8(bytes).ok()?)
    }
}

/// A non-empty run of ASCII digits that fits a `u64`.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_complete_ids_parse() {
        assert_eq!(
            StreamId::parse("1700000000000-5"),
            Some(StreamId {
                ms: 1_700_000_000_000,
                seq: 5
            })
        );
        for bad in [
            "",
            "5",
            "-",
            "1-",
            "-1",
            "+1-2",
            "1-+2",
            " 1-2",
            "1-2 ",
            "a-1",
            "1-2-3",
            "99999999999999999999-0",
        ] {
            assert_eq!(StreamId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn order_is_milliseconds_then_sequence() {
        let id = |s| StreamId::parse(s).unwrap();
        assert!(id("1-9") < id("2-0"));
        assert!(id("2-0") < id("2-1"));
        assert!(StreamId::ZERO < id("0-1"));
    }

    #[test]
    fn only_the_next_number_follows() {
        let id = |s| StreamId::parse(s).unwrap();
        assert!(id("7-5").follows(id("7-4")));
        assert!(!id("7-6").follows(id("7-4")), "one missing");
        assert!(!id("8-5").follows(id("7-4")), "another epoch");
        assert!(id("9-1").follows(StreamId::ZERO));
        assert!(!id("9-2").follows(StreamId::ZERO));
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(ms: u64, seq: u64) {
            let id = StreamId { ms, seq };
            prop_assert_eq!(StreamId::parse(&id.to_string()), Some(id));
        }
    }
}
