//! This instance's copy of the topics it reads: a bounded ring of entries
//! per topic, fed by the reader and read by the cursors.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::protocol::Read;
use super::stream_id::StreamId;
use crate::hub::backplane::{Cursor, CursorError, Entry};
use crate::hub::waiters::{lock, Waiters};

/// The topics this instance has subscribers for.
#[derive(Debug, Default)]
pub(super) struct Topics {
    logs: Mutex<HashMap<Arc<str>, Arc<TopicLog>>>,
    /// Bumped whenever the set of topics to read changes; the reader reads
    /// the set again when it differs from the one it last read.
    generation: AtomicU64,
}

impl Topics {
    /// Enters a cursor into `topic`'s log (made if needed): the log stays
    /// while it has cursors. Returns the log and the cursor's waker slot.
    pub(super) fn enter(
        &self,
        topic: &str,
        key: impl FnOnce() -> String,
        history: usize,
    ) -> (Arc<TopicLog>, usize) {
        let mut logs = lock(&self.logs);
        let log = logs
            .entry(topic.into())
            .or_insert_with(|| {
                Arc::new(TopicLog {
                    key: key(),
                    ring: Mutex::new(Ring::new(history)),
                })
            })
            .clone();
        // Under the map's lock, so the reader cannot drop it in between.
        let mut ring = lock(&log.ring);
        ring.cursors += 1;
        let slot = ring.waiters.slot();
        drop(ring);
        (log, slot)
    }

    /// The generation of the set of topics to read.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Marks the set of topics as changed; returns the new generation.
    pub(super) fn changed(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// The topics to read, with where to read each from; drops the logs no
    /// cursor reads any more.
    pub(super) fn to_read(&self) -> Vec<Arc<TopicLog>> {
        let mut logs = lock(&self.logs);
        logs.retain(|_, log| lock(&log.ring).cursors > 0);
        logs.values()
            .filter(|log| lock(&log.ring).read_after.is_some())
            .cloned()
            .collect()
    }

    /// Closes every log: cursors end once they read what is left.
    pub(super) fn close(&self) {
        let logs: Vec<_> = lock(&self.logs).values().cloned().collect();
        for log in logs {
            let wakers = lock(&log.ring).waiters.close();
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

/// One topic as this instance sees it.
#[derive(Debug)]
pub(super) struct TopicLog {
    /// The Redis key of the topic's stream.
    pub(super) key: String,
    pub(super) ring: Mutex<Ring>,
}

/// An event read from Redis, or the mark of events Redis no longer had
/// when the reader came to them.
#[derive(Debug)]
enum Slot {
    Event(Entry),
    Lost,
}

/// The entries read so far, oldest first, each with its stream id (a
/// [`Slot::Lost`] mark carries the id of the entry before it).
#[derive(Debug)]
pub(super) struct Ring {
    slots: VecDeque<(StreamId, Slot)>,
    /// The position of `slots[0]`; the next slot gets `first + len`.
    first: u64,
    /// The reader reads the events after this id; `None` until a
    /// subscriber has asked Redis where the stream ends.
    pub(super) read_after: Option<StreamId>,
    /// Every event after this id is here (or marked lost): where the reader
    /// started, then the id of the last slot dropped off the front.
    covered_after: Option<StreamId>,
    history: usize,
    cursors: usize,
    waiters: Waiters,
}

/// Where a cursor starts in a ring, and whether events before it are gone.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Start {
    pub(super) position: u64,
    pub(super) lost: bool,
}

impl Ring {
    fn new(history: usize) -> Self {
        Self {
            slots: VecDeque::new(),
            first: 0,
            read_after: None,
            covered_after: None,
            history: history.max(1),
            cursors: 0,
            waiters: Waiters::default(),
        }
    }

    /// Closed: no more events will be read.
    pub(super) fn is_closed(&self) -> bool {
        self.waiters.is_closed()
    }

    /// The position after the last event read.
    pub(super) fn end(&self) -> u64 {
        self.first + self.slots.len() as u64
    }

    /// Starts reading after `id` (the stream's last id when a subscriber
    /// asked); a ring already read keeps its place. Returns whether the
    /// reader has a new topic to read.
    pub(super) fn attach(&mut self, id: StreamId) -> bool {
        if self.read_after.is_some() {
            return false;
        }
        self.read_after = Some(id);
        self.covered_after = Some(id);
        true
    }

    /// Where a cursor starts: at the next event (`None`), or after `id` if
    /// this ring holds every event after it. `None` when it does not.
    pub(super) fn start(&self, after: Option<StreamId>) -> Option<Start> {
        let read_after = self.read_after?;
        let Some(id) = after else {
            return Some(Start {
                position: self.end(),
                lost: false,
            });
        };
        if id < self.covered_after? || id > read_after {
            return None;
        }
        let kept = self.slots.partition_point(|(slot_id, _)| *slot_id <= id);
        let lost = kept > 0 && matches!(self.slots[kept - 1].1, Slot::Lost);
        Some(Start {
            position: self.first + kept as u64,
            lost,
        })
    }

    /// Appends what the reader read; returns the wakers to wake once the
    /// lock is released, and how many entries were not events (skipped).
    /// An event that does not follow the last one read (its number is not
    /// the next, or its stream was made again) is preceded by a
    /// [`Slot::Lost`] mark.
    pub(super) fn extend(&mut self, read: impl IntoIterator<Item = Read>) -> (Vec<Waker>, usize) {
        let mut skipped = 0;
        for (id, entry) in read {
            let Some(last) = self.read_after else { break };
            if id <= last {
                continue; // read twice (a retried read): already here
            }
            if !id.follows(last) {
                self.push(last, Slot::Lost);
            }
            match entry {
                Some(entry) => self.push(id, Slot::Event(entry)),
                None => skipped += 1,
            }
            self.read_after = Some(id);
        }
        (self.waiters.take(), skipped)
    }

    pub(super) fn give_back(&mut self, wakers: Vec<Waker>) {
        self.waiters.give_back(wakers);
    }

    fn push(&mut self, id: StreamId, slot: Slot) {
        self.slots.push_back((id, slot));
        if self.slots.len() > self.history {
            if let Some((dropped, _)) = self.slots.pop_front() {
                self.covered_after = Some(dropped);
            }
            self.first += 1;
        }
    }
}

/// A subscriber's place in a topic of a
/// [`RedisBackplane`](super::RedisBackplane): first what it replays from
/// Redis, then this instance's ring of the topic.
#[derive(Debug)]
pub struct RedisCursor {
    log: Arc<TopicLog>,
    topics: Arc<Topics>,
    /// Events replayed from Redis, read before the ring.
    replay: VecDeque<Entry>,
    /// The position of the next slot to read in the ring.
    next: u64,
    /// Ring events up to this id were replayed already.
    replayed_to: Option<StreamId>,
    /// The last event given out.
    delivered: Option<Entry>,
    slot: usize,
}

impl RedisCursor {
    pub(super) fn new(log: Arc<TopicLog>, slot: usize, topics: Arc<Topics>) -> Self {
        Self {
            log,
            topics,
            replay: VecDeque::new(),
            next: 0,
            replayed_to: None,
            delivered: None,
            slot,
        }
    }

    /// Queues replayed events, read before the ring; returns how many
    /// entries were not events (skipped).
    pub(super) fn replay(&mut self, read: impl IntoIterator<Item = Read>) -> usize {
        let mut skipped = 0;
        for (id, entry) in read {
            match entry {
                Some(entry) => self.replay.push_back(entry),
                None => skipped += 1,
            }
            self.replayed_through(id);
        }
        skipped
    }

    /// Ring events up to `id` are not to be read: the replay has them.
    pub(super) fn replayed_through(&mut self, id: StreamId) {
        self.replayed_to = self.replayed_to.max(Some(id));
    }

    /// The last id the replay covers.
    pub(super) fn replayed_to(&self) -> Option<StreamId> {
        self.replayed_to
    }

    /// Reads the ring from `position` on.
    pub(super) fn place(&mut self, position: u64) {
        self.next = position;
    }
}

impl Cursor for RedisCursor {
    fn poll_next_batch(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Entry>,
        max: usize,
    ) -> Poll<Result<(), CursorError>> {
        let max = max.max(1);
        if !self.replay.is_empty() {
            let take = self.replay.len().min(max);
            batch.extend(self.replay.drain(..take));
            self.delivered = batch.last().cloned();
            return Poll::Ready(Ok(()));
        }
        let mut ring = lock(&self.log.ring);
        if self.next < ring.first {
            let last_delivered = self.delivered.as_ref().map(|e| e.id().to_owned());
            return Poll::Ready(Err(CursorError::Lagged { last_delivered }));
        }
        let start = batch.len();
        while self.next < ring.end() && batch.len() - start < max {
            let (id, slot) = &ring.slots[(self.next - ring.first) as usize];
            match slot {
                Slot::Event(_) if Some(*id) <= self.replayed_to => {}
                Slot::Lost if Some(*id) < self.replayed_to => {}
                Slot::Event(entry) => batch.push(entry.clone()),
                Slot::Lost if batch.len() > start => break,
                Slot::Lost => {
                    let last_delivered = self.delivered.as_ref().map(|e| e.id().to_owned());
                    return Poll::Ready(Err(CursorError::Lagged { last_delivered }));
                }
            }
            self.next += 1;
        }
        if batch.len() > start {
            self.delivered = batch.last().cloned();
            return Poll::Ready(Ok(()));
        }
        if ring.waiters.is_closed() {
            return Poll::Ready(Err(CursorError::Closed));
        }
        ring.waiters.register(self.slot, cx);
        Poll::Pending
    }

    fn skip_to_oldest(&mut self) {
        let ring = lock(&self.log.ring);
        self.next = self.next.max(ring.first);
        // Past a lost mark: the events after it are the oldest there are.
        if let Some((_, Slot::Lost)) = ring.slots.get((self.next - ring.first) as usize) {
            self.next += 1;
        }
    }
}

impl Drop for RedisCursor {
    fn drop(&mut self) {
        let last = {
            let mut ring = lock(&self.log.ring);
            ring.waiters.release(self.slot);
            ring.cursors -= 1;
            ring.cursors == 0
        };
        if last {
            // The reader stops reading the topic when it next looks.
            self.topics.changed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventBody;

    fn id(n: u64) -> StreamId {
        StreamId::parse(&format!("7-{n}")).unwrap()
    }

    fn read(n: u64) -> Read {
        let body = EventBody::text(None, &n.to_string()).unwrap();
        (id(n), Some(Entry::new(&id(n).to_string(), &body).unwrap()))
    }

    fn cursor(topics: &Arc<Topics>, history: usize) -> RedisCursor {
        let (log, slot) = topics.enter("t", || "sse:t".into(), history);
        RedisCursor::new(log, slot, topics.clone())
    }

    fn poll(cursor: &mut RedisCursor) -> Poll<Result<Vec<u64>, CursorError>> {
        let waker = Waker::noop();
        let mut batch = Vec::new();
        cursor
            .poll_next_batch(&mut Context::from_waker(waker), &mut batch, 64)
            .map_ok(|()| {
                batch
                    .iter()
                    .map(|e| e.id().rsplit('-').next().unwrap().parse().unwrap())
                    .collect()
            })
    }

    #[test]
    fn a_skipped_number_is_a_lost_mark_that_cursors_stop_at() {
        let topics = Arc::new(Topics::default());
        let mut reader = cursor(&topics, 100);
        let mut ring = lock(&reader.log.ring);
        assert!(ring.attach(id(0)));
        assert!(!ring.attach(id(5)), "attached once");
        ring.extend([read(1), read(2), read(4), read(5)]);
        drop(ring);
        assert_eq!(poll(&mut reader), Poll::Ready(Ok(vec![1, 2])));
        assert!(matches!(
            poll(&mut reader),
            Poll::Ready(Err(CursorError::Lagged { .. }))
        ));
        reader.skip_to_oldest();
        assert_eq!(poll(&mut reader), Poll::Ready(Ok(vec![4, 5])));
        assert!(poll(&mut reader).is_pending());
        // Resuming after 2 (or 3) is told that 3 is gone; after 1 is not.
        let ring = lock(&reader.log.ring);
        assert_eq!(
            ring.start(Some(id(2))),
            Some(Start {
                position: 3,
                lost: true
            })
        );
        assert_eq!(
            ring.start(Some(id(3))),
            Some(Start {
                position: 3,
                lost: true
            })
        );
        assert_eq!(
            ring.start(Some(id(1))),
            Some(Start {
                position: 1,
                lost: false
            })
        );
        assert_eq!(ring.start(Some(id(6))), None, "not read yet");
    }

    #[test]
    fn the_ring_covers_what_it_kept_and_reads_twice_are_ignored() {
        let topics = Arc::new(Topics::default());
        let mut live = cursor(&topics, 3);
        let mut ring = lock(&live.log.ring);
        ring.attach(id(0));
        ring.extend((1..=5).map(read));
        ring.extend([read(4), read(5)]);
        assert_eq!(ring.end(), 5, "4 and 5 once");
        assert_eq!(ring.start(Some(id(1))), None, "2 was dropped");
        assert_eq!(
            ring.start(Some(id(2))),
            Some(Start {
                position: 2,
                lost: false
            })
        );
        assert_eq!(
            ring.start(None),
            Some(Start {
                position: 5,
                lost: false
            })
        );
        drop(ring);
        // A cursor behind what the ring keeps has lagged.
        assert!(matches!(
            poll(&mut live),
            Poll::Ready(Err(CursorError::Lagged { .. }))
        ));
    }

    #[test]
    fn a_cursor_skips_in_the_ring_what_it_replayed() {
        let topics = Arc::new(Topics::default());
        let mut cursor = cursor(&topics, 100);
        lock(&cursor.log.ring).attach(id(2));
        cursor.replay([read(1), read(2), read(3)]);
        cursor.place(0);
        lock(&cursor.log.ring).extend([read(3), read(4)]);
        assert_eq!(poll(&mut cursor), Poll::Ready(Ok(vec![1, 2, 3])));
        assert_eq!(poll(&mut cursor), Poll::Ready(Ok(vec![4])));
    }

    #[test]
    fn the_last_cursor_leaving_lets_the_reader_drop_the_topic() {
        let topics = Arc::new(Topics::default());
        let first = cursor(&topics, 8);
        let second = cursor(&topics, 8);
        lock(&first.log.ring).attach(id(0));
        assert_eq!(topics.to_read().len(), 1);
        let before = topics.generation();
        drop(first);
        assert_eq!(topics.generation(), before, "one cursor is left");
        drop(second);
        assert!(topics.generation() > before);
        assert!(topics.to_read().is_empty());
        assert!(lock(&topics.logs).is_empty());
    }
}
