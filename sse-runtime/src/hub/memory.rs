//! The embedded backplane: a bounded history per topic, in this process.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::backplane::{
    Backplane, BackplaneError, Cursor, CursorError, Entry, Subscribed, DEFAULT_IDEMPOTENCY_WINDOW,
};
use super::waiters::{lock, Waiters};
use crate::event::EventBody;

/// Keeps the last `history` events of each topic in memory.
///
/// Ids are `<run>-<n>`: `n` numbers the events of all topics from 1, and
/// `<run>` is when this backplane was made (milliseconds since the Unix
/// epoch), so ids keep increasing across restarts and an id from an earlier
/// run is recognised as history this run cannot replay.
///
/// ```
/// use sse_runtime::hub::{Hub, MemoryBackplane};
/// # struct R;
/// let hub: Hub<R> = Hub::with_backplane(MemoryBackplane::new(10_000));
/// # drop(hub);
/// ```
///
/// Each topic keeps its history while the backplane lives, subscribers or
/// not, unless [`evict_idle_topics`](Self::evict_idle_topics) lets idle
/// ones go: then topics can be as many as users or requests.
#[derive(Debug)]
pub struct MemoryBackplane {
    run: u64,
    history: usize,
    topics: Mutex<Topics>,
    closed: AtomicBool,
    /// The number of the next event, whatever its topic. Numbers never
    /// repeat in a run, so an id cannot name an event of a topic that was
    /// dropped and made again.
    next_number: AtomicU64,
    evict_after: Option<Duration>,
    /// How long a publish's idempotency key is remembered.
    idempotency_window: Duration,
}

#[derive(Debug, Default)]
struct Topics {
    logs: HashMap<Arc<str>, Arc<Log>>,
    /// Look for idle topics when a new one would make this many.
    sweep_at: usize,
}

/// Idle topics are looked for when the number of topics doubles (at least
/// this many), so the search costs O(1) per topic made.
const MIN_SWEEP: usize = 64;

#[derive(Debug)]
struct Log {
    ring: Mutex<Ring>,
}

#[derive(Debug)]
struct Ring {
    /// The kept events, oldest first, with their numbers.
    entries: VecDeque<(u64, Entry)>,
    /// The position of `entries[0]` among the topic's events: cursors count
    /// positions, which have no gaps; the next event gets `first + len`.
    first: u64,
    /// The number of the last event dropped off the front: resuming after
    /// it still misses nothing.
    dropped: Option<u64>,
    /// Dropped from the backplane as idle: whoever still holds this looks
    /// the topic up again.
    evicted: bool,
    cursors: usize,
    /// The last publish, subscribe or cursor drop.
    active: Instant,
    /// The cursors waiting for the next publish.
    waiters: Waiters,
    /// The idempotency keys published with, within their window.
    keys: Keys,
}

/// A topic's recent idempotency keys, each with the id its publish got.
#[derive(Debug, Default)]
struct Keys {
    ids: HashMap<Arc<str>, Arc<str>>,
    /// The same keys, in the order they expire (each is kept for the same
    /// window, so that is the order they came in).
    expiry: VecDeque<(Instant, Arc<str>)>,
}

impl Keys {
    /// The id published with `key`, if that was within its window.
    fn get(&mut self, key: &str, now: Instant) -> Option<Arc<str>> {
        self.expire(now);
        self.ids.get(key).cloned()
    }

    fn insert(&mut self, key: &str, id: Arc<str>, until: Instant) {
        let key: Arc<str> = key.into();
        self.ids.insert(key.clone(), id);
        self.expiry.push_back((until, key));
    }

    /// Forgets the keys whose window ended by `now`: O(1) for each.
    fn expire(&mut self, now: Instant) {
        while let Some((until, _)) = self.expiry.front() {
            if *until > now {
                break;
            }
            if let Some((_, key)) = self.expiry.pop_front() {
                self.ids.remove(&key);
            }
        }
    }
}

impl Ring {
    fn end(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    /// The position after the event numbered `n`, if resuming after it
    /// misses nothing this topic kept.
    fn position_after(&self, n: u64) -> Option<u64> {
        if self.dropped == Some(n) {
            return Some(self.first);
        }
        let kept = self.entries.partition_point(|(number, _)| *number <= n);
        let found = kept > 0 && self.entries[kept - 1].0 == n;
        found.then_some(self.first + kept as u64)
    }
}

impl MemoryBackplane {
    /// Keeps the last `history` events of each topic (at least one).
    ///
    /// ```
    /// let backplane = sse_runtime::hub::MemoryBackplane::new(256);
    /// # drop(backplane);
    /// ```
    pub fn new(history: usize) -> Self {
        let run = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        Self {
            run,
            history: history.max(1),
            topics: Mutex::default(),
            closed: AtomicBool::new(false),
            next_number: AtomicU64::new(1),
            evict_after: None,
            idempotency_window: DEFAULT_IDEMPOTENCY_WINDOW,
        }
    }

    /// How long a publish's idempotency key is remembered
    /// ([`DEFAULT_IDEMPOTENCY_WINDOW`](super::DEFAULT_IDEMPOTENCY_WINDOW)
    /// unless set): a publish with the same key to the same topic within it
    /// is not published again. A topic with keys still in their window is
    /// not evicted as idle.
    ///
    /// ```
    /// use std::time::Duration;
    /// let backplane = sse_runtime::hub::MemoryBackplane::new(100)
    ///     .idempotency_window(Duration::from_secs(60));
    /// # drop(backplane);
    /// ```
    pub fn idempotency_window(mut self, window: Duration) -> Self {
        self.idempotency_window = window;
        self
    }

    /// Lets a topic go, history and all, once it has had no subscriber and
    /// no publish for `after`; by default topics stay while the backplane
    /// lives. A client that comes back later with an id from such a topic
    /// gets [`HISTORY_LOST`](super::HISTORY_LOST), then the topic's new
    /// events. Idle topics are looked for whenever the number of topics
    /// doubles, so memory follows the topics in use.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::hub::{Hub, MemoryBackplane};
    /// # struct R;
    /// // A topic per user, kept ten minutes after its last use.
    /// let backplane = MemoryBackplane::new(100).evict_idle_topics(Duration::from_secs(600));
    /// let hub: Hub<R> = Hub::with_backplane(backplane);
    /// # drop(hub);
    /// ```
    pub fn evict_idle_topics(mut self, after: Duration) -> Self {
        self.evict_after = Some(after);
        self
    }

    /// How many events `topic` keeps now (at most the history size).
    ///
    /// ```
    /// let backplane = sse_runtime::hub::MemoryBackplane::new(8);
    /// assert_eq!(backplane.retained("news"), 0);
    /// ```
    pub fn retained(&self, topic: &str) -> usize {
        let log = lock(&self.topics).logs.get(topic).cloned();
        log.map_or(0, |log| lock(&log.ring).entries.len())
    }

    /// How many topics are kept now.
    ///
    /// ```
    /// let backplane = sse_runtime::hub::MemoryBackplane::new(8);
    /// assert_eq!(backplane.topics(), 0);
    /// ```
    pub fn topics(&self) -> usize {
        lock(&self.topics).logs.len()
    }

    fn log(&self, topic: &str) -> Arc<Log> {
        let mut topics = lock(&self.topics);
        if let Some(log) = topics.logs.get(topic) {
            return log.clone();
        }
        if let Some(after) = self.evict_after {
            if topics.logs.len() >= topics.sweep_at {
                sweep(&mut topics, after);
            }
        }
        let log = Arc::new(Log {
            ring: Mutex::new(Ring {
                entries: VecDeque::new(),
                first: 1,
                dropped: None,
                evicted: false,
                cursors: 0,
                active: Instant::now(),
                waiters: Waiters::new(self.closed.load(Ordering::Acquire)),
                keys: Keys::default(),
            }),
        });
        topics.logs.insert(topic.into(), log.clone());
        log
    }

    /// The topic's ring, locked; made again if it was evicted meanwhile.
    fn ring<R>(&self, topic: &str, with: impl FnOnce(&Arc<Log>, &mut Ring) -> R) -> R {
        loop {
            let log = self.log(topic);
            let mut ring = lock(&log.ring);
            if !ring.evicted {
                return with(&log, &mut ring);
            }
        }
    }

    /// The event number an id of this run names.
    fn number(&self, id: &str) -> Option<u64> {
        let (run, n) = id.split_once('-')?;
        (run.parse::<u64>().ok()? == self.run).then_some(())?;
        n.parse().ok()
    }
}

/// Drops the topics that have had no subscriber and no publish for `after`.
fn sweep(topics: &mut Topics, after: Duration) {
    let now = Instant::now();
    topics.logs.retain(|_, log| {
        let mut ring = lock(&log.ring);
        ring.keys.expire(now);
        let idle = ring.cursors == 0
            && now.duration_since(ring.active) >= after
            && ring.keys.ids.is_empty();
        ring.evicted = idle;
        !idle
    });
    topics.sweep_at = (2 * topics.logs.len()).max(MIN_SWEEP);
}

impl Backplane for MemoryBackplane {
    type Cursor = MemoryCursor;

    async fn publish(
        &self,
        topic: &str,
        body: EventBody,
        key: Option<&str>,
    ) -> Result<Arc<str>, BackplaneError> {
        let published = self.ring(topic, |log, ring| {
            if ring.waiters.is_closed() {
                return Err(BackplaneError::Closed);
            }
            // Looked up and stored under the topic's lock: two publishes with
            // one key cannot both append.
            let now = Instant::now();
            if let Some(id) = key.and_then(|key| ring.keys.get(key, now)) {
                return Ok(Err(id));
            }
            // Taken under the topic's lock, so numbers increase within it.
            let number = self.next_number.fetch_add(1, Ordering::Relaxed);
            let entry = Entry::numbered(&body, self.run, number);
            if let Some(key) = key {
                let until = now.checked_add(self.idempotency_window);
                let until = until.unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
                ring.keys.insert(key, entry.id().into(), until);
            }
            ring.entries.push_back((number, entry.clone()));
            if ring.entries.len() > self.history {
                ring.dropped = ring.entries.pop_front().map(|(number, _)| number);
                ring.first += 1;
            }
            if self.evict_after.is_some() {
                ring.active = now;
            }
            Ok(Ok((log.clone(), entry, ring.waiters.take())))
        })?;
        let (log, entry, mut wakers) = match published {
            Ok(published) => published,
            // Published before with this key: its id again, and nothing new.
            Err(id) => return Ok(id),
        };
        wakers.drain(..).for_each(Waker::wake);
        lock(&log.ring).waiters.give_back(wakers);
        Ok(entry.id().into())
    }

    async fn subscribe(
        &self,
        topic: &str,
        last_event_id: Option<&str>,
    ) -> Result<Subscribed<MemoryCursor>, BackplaneError> {
        let (log, next, history_lost, slot) = self.ring(topic, |log, ring| {
            let slot = ring.waiters.slot();
            ring.cursors += 1;
            ring.active = Instant::now();
            let (next, lost) = match last_event_id.map(|id| self.number(id)) {
                None => (ring.end(), false),
                // Too old, from another run or an evicted topic, or not an
                // id of ours: replay what is kept and say the rest is gone.
                Some(n) => match n.and_then(|n| ring.position_after(n)) {
                    Some(next) => (next, false),
                    None => (ring.first, true),
                },
            };
            (log.clone(), next, lost, slot)
        });
        Ok(Subscribed {
            cursor: MemoryCursor {
                log,
                next,
                delivered: None,
                slot,
                run: self.run,
            },
            history_lost,
        })
    }

    fn close(&self) {
        let topics = {
            self.closed.store(true, Ordering::Release);
            lock(&self.topics)
                .logs
                .values()
                .cloned()
                .collect::<Vec<_>>()
        };
        for log in topics {
            let wakers = lock(&log.ring).waiters.close();
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

/// A position in a [`MemoryBackplane`] topic: the position of the next
/// event to read.
#[derive(Debug)]
pub struct MemoryCursor {
    log: Arc<Log>,
    next: u64,
    /// The number of the last event given out.
    delivered: Option<u64>,
    /// Where this cursor's waker waits in the ring.
    slot: usize,
    run: u64,
}

impl Cursor for MemoryCursor {
    fn poll_next_batch(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Entry>,
        max: usize,
    ) -> Poll<Result<(), CursorError>> {
        let mut ring = lock(&self.log.ring);
        if self.next < ring.first {
            let last_delivered = self.delivered.map(|n| format!("{}-{n}", self.run));
            return Poll::Ready(Err(CursorError::Lagged { last_delivered }));
        }
        let available = ring.end() - self.next;
        if available > 0 {
            let start = (self.next - ring.first) as usize;
            let take = available.min(max.max(1) as u64) as usize;
            let taken = ring.entries.range(start..start + take);
            self.delivered = taken.clone().next_back().map(|(number, _)| *number);
            batch.extend(taken.map(|(_, entry)| entry.clone()));
            self.next += take as u64;
            return Poll::Ready(Ok(()));
        }
        if ring.waiters.is_closed() {
            return Poll::Ready(Err(CursorError::Closed));
        }
        ring.waiters.register(self.slot, cx);
        Poll::Pending
    }

    fn skip_to_oldest(&mut self) {
        let first = lock(&self.log.ring).first;
        self.next = self.next.max(first);
    }
}

impl Drop for MemoryCursor {
    fn drop(&mut self) {
        let mut ring = lock(&self.log.ring);
        ring.waiters.release(self.slot);
        ring.cursors -= 1;
        ring.active = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: u32) -> EventBody {
        EventBody::text(None, &n.to_string()).unwrap()
    }

    async fn numbers(cursor: &mut MemoryCursor, max: usize) -> Result<Vec<String>, CursorError> {
        let mut batch = Vec::new();
        std::future::poll_fn(|cx| cursor.poll_next_batch(cx, &mut batch, max)).await?;
        Ok(batch
            .iter()
            .map(|e| e.id().rsplit('-').next().unwrap().to_owned())
            .collect())
    }

    #[tokio::test]
    async fn live_subscribers_start_at_the_next_event_and_batch() {
        let backplane = MemoryBackplane::new(10);
        backplane.publish("t", body(1), None).await.unwrap();
        let mut cursor = backplane.subscribe("t", None).await.unwrap().cursor;
        for n in 2..=4 {
            backplane.publish("t", body(n), None).await.unwrap();
        }
        assert_eq!(numbers(&mut cursor, 2).await.unwrap(), ["2", "3"]);
        assert_eq!(numbers(&mut cursor, 64).await.unwrap(), ["4"]);
    }

    #[tokio::test]
    async fn a_waiting_cursor_wakes_on_publish() {
        let backplane = Arc::new(MemoryBackplane::new(10));
        let mut cursor = backplane.subscribe("t", None).await.unwrap().cursor;
        let publisher = backplane.clone();
        let waiting = tokio::spawn(async move { numbers(&mut cursor, 8).await });
        tokio::task::yield_now().await;
        publisher.publish("t", body(1), None).await.unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), ["1"]);
    }

    #[tokio::test]
    async fn resuming_replays_after_the_id_and_flags_what_is_gone() {
        let backplane = MemoryBackplane::new(3);
        let mut ids = Vec::new();
        for n in 1..=5 {
            ids.push(
                backplane
                    .publish("t", body(n), None)
                    .await
                    .unwrap()
                    .to_string(),
            );
        }
        let resumed = backplane.subscribe("t", Some(&ids[2])).await.unwrap();
        assert!(!resumed.history_lost);
        let mut cursor = resumed.cursor;
        assert_eq!(numbers(&mut cursor, 8).await.unwrap(), ["4", "5"]);
        // Event 2 is gone (3, 4, 5 are kept): replay what is kept, flagged.
        let stale = backplane.subscribe("t", Some(&ids[0])).await.unwrap();
        assert!(stale.history_lost);
        let mut cursor = stale.cursor;
        assert_eq!(numbers(&mut cursor, 8).await.unwrap(), ["3", "4", "5"]);
        // The oldest kept event's predecessor is still a clean resume.
        assert!(
            !backplane
                .subscribe("t", Some(&ids[1]))
                .await
                .unwrap()
                .history_lost
        );
        for unknown in ["", "x", "1-1", "5", &format!("{}-x", backplane.run)] {
            let lost = backplane.subscribe("t", Some(unknown)).await.unwrap();
            assert!(lost.history_lost, "{unknown:?}");
        }
    }

    #[tokio::test]
    async fn a_cursor_behind_the_history_lags_then_can_skip_ahead() {
        let backplane = MemoryBackplane::new(2);
        let mut cursor = backplane.subscribe("t", None).await.unwrap().cursor;
        backplane.publish("t", body(1), None).await.unwrap();
        assert_eq!(numbers(&mut cursor, 8).await.unwrap(), ["1"]);
        for n in 2..=5 {
            backplane.publish("t", body(n), None).await.unwrap();
        }
        match numbers(&mut cursor, 8).await {
            Err(CursorError::Lagged { last_delivered }) => {
                assert_eq!(last_delivered, Some(format!("{}-1", backplane.run)));
            }
            other => panic!("{other:?}"),
        }
        cursor.skip_to_oldest();
        assert_eq!(numbers(&mut cursor, 8).await.unwrap(), ["4", "5"]);
    }

    #[tokio::test]
    async fn close_drains_then_ends() {
        let backplane = MemoryBackplane::new(8);
        let mut cursor = backplane.subscribe("t", None).await.unwrap().cursor;
        backplane.publish("t", body(1), None).await.unwrap();
        backplane.close();
        assert!(matches!(
            backplane.publish("t", body(2), None).await,
            Err(BackplaneError::Closed)
        ));
        assert_eq!(numbers(&mut cursor, 8).await.unwrap(), ["1"]);
        assert_eq!(numbers(&mut cursor, 8).await, Err(CursorError::Closed));
        // A topic made after close is closed too.
        assert!(matches!(
            backplane.publish("new", body(1), None).await,
            Err(BackplaneError::Closed)
        ));
    }

    #[tokio::test]
    async fn cursors_that_come_and_go_leave_nothing_behind() {
        let backplane = MemoryBackplane::new(8);
        for _ in 0..1000 {
            let mut cursor = backplane.subscribe("t", None).await.unwrap().cursor;
            // Registers its waker, then is dropped without a publish.
            let waker = futures_noop_waker();
            let mut cx = Context::from_waker(&waker);
            assert!(cursor
                .poll_next_batch(&mut cx, &mut Vec::new(), 8)
                .is_pending());
        }
        let log = backplane.log("t");
        let ring = lock(&log.ring);
        assert_eq!(ring.waiters.slots(), 1);
        assert!(ring.waiters.none_waiting());
    }

    fn futures_noop_waker() -> Waker {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: Arc<Self>) {}
        }
        Waker::from(Arc::new(Noop))
    }

    #[tokio::test]
    async fn waking_reuses_one_buffer() {
        let backplane = Arc::new(MemoryBackplane::new(8));
        let mut cursors = Vec::new();
        for _ in 0..100 {
            cursors.push(backplane.subscribe("t", None).await.unwrap().cursor);
        }
        let waker = futures_noop_waker();
        let mut cx = Context::from_waker(&waker);
        for round in 0..3 {
            for cursor in &mut cursors {
                let mut batch = Vec::new();
                while cursor.poll_next_batch(&mut cx, &mut batch, 8).is_ready() {}
            }
            backplane.publish("t", body(round), None).await.unwrap();
            let log = backplane.log("t");
            let ring = lock(&log.ring);
            assert!(ring.waiters.spare_capacity() >= Some(100));
            assert!(ring.waiters.none_waiting(), "all were woken");
        }
    }

    #[tokio::test]
    async fn ids_are_unique_across_topics_and_name_only_their_own() {
        let backplane = MemoryBackplane::new(8);
        let a = backplane.publish("a", body(1), None).await.unwrap();
        let b = backplane.publish("b", body(1), None).await.unwrap();
        assert_ne!(a, b);
        // An id from another topic is not a place in this one.
        let from_a = backplane.subscribe("b", Some(&a)).await.unwrap();
        assert!(from_a.history_lost);
        let from_b = backplane.subscribe("b", Some(&b)).await.unwrap();
        assert!(!from_b.history_lost);
    }

    /// Makes `n` topics with an event each; returns the first one's id.
    async fn fill(backplane: &MemoryBackplane, prefix: &str, n: usize) -> String {
        let mut first = None;
        for i in 0..n {
            let entry = backplane
                .publish(&format!("{prefix}{i}"), body(1), None)
                .await;
            first.get_or_insert_with(|| entry.unwrap().to_string());
        }
        first.unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn idle_topics_go_when_the_topics_double() {
        let backplane = MemoryBackplane::new(8).evict_idle_topics(Duration::from_secs(10));
        let old_id = fill(&backplane, "idle-", MIN_SWEEP - 2).await;
        // A subscribed topic and a recently used one stay.
        let watched = backplane.subscribe("watched", None).await.unwrap().cursor;
        tokio::time::advance(Duration::from_secs(11)).await;
        backplane.publish("recent", body(1), None).await.unwrap();
        assert_eq!(backplane.topics(), MIN_SWEEP);
        backplane.publish("new", body(1), None).await.unwrap();
        assert_eq!(backplane.topics(), 3, "watched, recent and new");
        assert_eq!(backplane.retained("idle-0"), 0);
        // Coming back to an evicted topic: told that history is lost, then
        // given the topic's new events, whose ids are newer.
        let again = backplane.publish("idle-0", body(2), None).await.unwrap();
        let resumed = backplane.subscribe("idle-0", Some(&old_id)).await.unwrap();
        assert!(resumed.history_lost);
        let mut cursor = resumed.cursor;
        let numbers = numbers(&mut cursor, 8).await.unwrap();
        assert_eq!(numbers, [again.rsplit('-').next().unwrap()]);
        assert!(backplane.number(&again) > backplane.number(&old_id));
        drop(watched);
    }

    #[tokio::test(start_paused = true)]
    async fn without_eviction_topics_stay() {
        let backplane = MemoryBackplane::new(8);
        fill(&backplane, "t", 2 * MIN_SWEEP).await;
        tokio::time::advance(Duration::from_secs(3600 * 24)).await;
        fill(&backplane, "u", 2 * MIN_SWEEP).await;
        assert_eq!(backplane.topics(), 4 * MIN_SWEEP);
    }

    #[tokio::test]
    async fn a_publish_that_meets_an_evicted_topic_makes_it_again() {
        let backplane = MemoryBackplane::new(8).evict_idle_topics(Duration::ZERO);
        backplane.publish("t", body(1), None).await.unwrap();
        // What a sweep does, between a publisher's lookup and its lock.
        let stale = backplane.log("t");
        lock(&backplane.topics).logs.remove("t");
        lock(&stale.ring).evicted = true;
        backplane.publish("t", body(2), None).await.unwrap();
        assert_eq!(
            lock(&stale.ring).entries.len(),
            1,
            "nothing lands in the old one"
        );
        assert_eq!(backplane.retained("t"), 1);
    }

    #[tokio::test]
    async fn ids_keep_increasing_across_runs() {
        let first = MemoryBackplane::new(8);
        let id = first.publish("t", body(1), None).await.unwrap().to_string();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = MemoryBackplane::new(8);
        let later = second
            .publish("t", body(1), None)
            .await
            .unwrap()
            .to_string();
        let run = |id: &str| id.split('-').next().unwrap().parse::<u64>().unwrap();
        assert!(run(&later) > run(&id));
        assert!(second.subscribe("t", Some(&id)).await.unwrap().history_lost);
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_publishes_once_within_its_window_and_per_topic() {
        let window = Duration::from_secs(60);
        let backplane = MemoryBackplane::new(8).idempotency_window(window);
        let first = backplane.publish("t", body(1), Some("k")).await.unwrap();
        let again = backplane.publish("t", body(2), Some("k")).await.unwrap();
        assert_eq!(again, first, "a retry gets the first publish's id");
        assert_eq!(backplane.retained("t"), 1, "and appends nothing");
        let elsewhere = backplane.publish("u", body(1), Some("k")).await.unwrap();
        assert_ne!(elsewhere, first, "keys are per topic");
        let other = backplane.publish("t", body(3), Some("j")).await.unwrap();
        assert_ne!(other, first);
        tokio::time::advance(window).await;
        let later = backplane.publish("t", body(4), Some("k")).await.unwrap();
        assert_ne!(later, first, "the window is over");
        assert_eq!(backplane.retained("t"), 3);
        let kept = lock(&backplane.log("t").ring).keys.ids.len();
        assert_eq!(kept, 1, "the keys whose window ended are forgotten");
    }

    #[tokio::test(start_paused = true)]
    async fn a_topic_is_not_evicted_while_its_keys_are_remembered() {
        let backplane = MemoryBackplane::new(8)
            .evict_idle_topics(Duration::ZERO)
            .idempotency_window(Duration::from_secs(60));
        let first = backplane
            .publish("keyed", body(1), Some("k"))
            .await
            .unwrap();
        fill(&backplane, "t", MIN_SWEEP).await;
        assert_eq!(backplane.retained("keyed"), 1, "kept for its key");
        let again = backplane
            .publish("keyed", body(2), Some("k"))
            .await
            .unwrap();
        assert_eq!(again, first);
    }
}
