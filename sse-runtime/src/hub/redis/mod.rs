//! A backplane on Redis Streams, shared by every instance of an app.
//!
//! A topic is a stream (`XADD ... MAXLEN ~ history` bounds what it keeps),
//! and an event's id is its stream id, so every instance names it the same
//! way and a client resumes on any instance. Each instance runs one reader
//! task that waits on all its subscribed topics with one blocking `XREAD`,
//! frames each event once, and keeps the last `history` per topic in a
//! ring its subscribers share, as the in-memory backplane does. Replays
//! after a `Last-Event-ID` come from that ring when it reaches back far
//! enough, and from `XRANGE` when it does not. How the ids are made and
//! what an entry holds: `protocol.rs`.

mod protocol;
mod reader;
mod stream_id;
mod topics;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};
use tokio::sync::Notify;

use self::protocol::Position;
use self::stream_id::StreamId;
use self::topics::{TopicLog, Topics};
use super::backplane::{Backplane, BackplaneError, Subscribed, DEFAULT_IDEMPOTENCY_WINDOW};
use super::waiters::lock;
use crate::event::EventBody;

pub use self::topics::RedisCursor;

/// Keeps each topic's history in a Redis stream, shared by every instance
/// connected to the same Redis (7.0 or later; a single server or a
/// replicated primary, not a cluster).
///
/// ```no_run
/// use sse_runtime::hub::{Hub, RedisBackplane};
/// # struct ChatRoute;
/// # async fn run() -> Result<(), sse_runtime::hub::BackplaneError> {
/// let backplane = RedisBackplane::builder("redis://127.0.0.1:6379/")
///     .history(10_000)
///     .key_prefix("chat:")
///     .connect()
///     .await?;
/// let hub = Hub::<ChatRoute>::with_backplane(backplane);
/// # drop(hub);
/// # Ok(())
/// # }
/// ```
///
/// Guarantees, beyond the [`Backplane`] contract:
///
/// - Ids are `<epoch>-<n>`: the stream's creation time and the event's
///   number in it. A client resuming on any instance gets what it missed,
///   with no gap and no duplicate, or the
///   [`HISTORY_LOST`](super::HISTORY_LOST) signal when Redis trimmed it, or
///   lost it (the stream was made again, with another epoch).
/// - When the connection drops or Redis restarts, the reader connects
///   again with backoff and reads each topic after the last id it had; if
///   Redis no longer has what came after it, subscribers are told as if they
///   had fallen behind the history ([`Lagging`](super::Lagging)).
/// - A publish while Redis is unreachable, or that Redis refuses (out of
///   memory), fails with [`BackplaneError::Failed`]: nothing was stored. One
///   that gets no answer (Redis frozen past the 2 s response timeout, the
///   connection lost after the command went out) fails with
///   [`BackplaneError::Unanswered`]: Redis may still run it. A publish with
///   an [idempotency key](crate::hub::Publish::idempotency_key) is checked
///   and appended in one script, so its retries store it at most once.
/// - Events written into the stream by other programs must use the same
///   fields (`event`, `data`) and ids (`XADD key <epoch>-*`); other entries
///   are skipped, with a warning.
#[derive(Debug)]
pub struct RedisBackplane {
    inner: Arc<Inner>,
    reader: tokio::task::AbortHandle,
}

/// Builds a [`RedisBackplane`]; see [`RedisBackplane::builder`].
///
/// ```
/// use std::time::Duration;
/// let builder = sse_runtime::hub::RedisBackplane::builder("redis://127.0.0.1/")
///     .history(1_000)
///     .key_prefix("app:sse:")
///     .block(Duration::from_secs(2));
/// # drop(builder);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `connect`"]
pub struct RedisBuilder {
    url: String,
    prefix: String,
    config: Config,
}

#[derive(Debug, Clone)]
struct Config {
    history: usize,
    /// The longest a read waits for events; also how soon a silently dead
    /// connection is noticed.
    block: Duration,
    /// The most entries read per topic per `XREAD`.
    count: usize,
    connect_timeout: Duration,
    response_timeout: Duration,
    /// How long a publish's idempotency key is kept.
    idempotency_window: Duration,
}

impl RedisBuilder {
    /// How many events each topic keeps, in Redis (`MAXLEN ~`, so a few
    /// more) and in each instance's ring (1024 by default).
    ///
    /// ```
    /// let builder = sse_runtime::hub::RedisBackplane::builder("redis://127.0.0.1/").history(64);
    /// # drop(builder);
    /// ```
    pub fn history(mut self, events: usize) -> Self {
        self.config.history = events.max(1);
        self
    }

    /// What the topics' keys start with (`sse:` by default): topic `room-1`
    /// is the stream `sse:room-1`.
    ///
    /// ```
    /// let builder = sse_runtime::hub::RedisBackplane::builder("redis://127.0.0.1/").key_prefix("chat:");
    /// # drop(builder);
    /// ```
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest one `XREAD` waits (5 seconds by default). Subscribing
    /// to a topic this instance does not read yet interrupts the wait, so
    /// this bounds only how soon a connection that died silently is noticed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sse_runtime::hub::RedisBackplane::builder("redis://127.0.0.1/").block(Duration::from_secs(1));
    /// # drop(builder);
    /// ```
    pub fn block(mut self, wait: Duration) -> Self {
        self.config.block = wait.max(Duration::from_millis(1));
        self
    }

    /// How long a publish's idempotency key is kept in Redis
    /// ([`DEFAULT_IDEMPOTENCY_WINDOW`](crate::hub::DEFAULT_IDEMPOTENCY_WINDOW)
    /// unless set; at least a millisecond): a publish with the same key to
    /// the same topic within it, from any instance, is not published again.
    /// Each key is a string next to its topic's stream (the stream's key, a
    /// NUL byte, the idempotency key) that expires with the window.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sse_runtime::hub::RedisBackplane::builder("redis://127.0.0.1/")
    ///     .idempotency_window(Duration::from_secs(60));
    /// # drop(builder);
    /// ```
    pub fn idempotency_window(mut self, window: Duration) -> Self {
        self.config.idempotency_window = window.max(Duration::from_millis(1));
        self
    }

    /// Connects (a connection for commands, and one for the reader), checks
    /// the server's version and starts the reader task. Call it inside the
    /// tokio runtime that will serve.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), sse_runtime::hub::BackplaneError> {
    /// let backplane = sse_runtime::hub::RedisBackplane::builder("redis://127.0.0.1/").connect().await?;
    /// # drop(backplane);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// It tries once, for at most the connection and response timeouts (2 s
    /// each): a Redis that is down, frozen or too old fails it at once,
    /// with an error that names the URL (its password left out), so an app
    /// can refuse to start before it accepts a connection.
    pub async fn connect(self) -> Result<RedisBackplane, BackplaneError> {
        let at = redacted(&self.url);
        let client = redis::Client::open(self.url.as_str()).map_err(unreachable(&at))?;
        // No retries within a command, the first connection included: a
        // Redis that is down or frozen is reported after one bounded
        // attempt, not seconds of backoff; and while Redis is down each
        // publish tries to connect once and fails at once (a publisher
        // waiting through backoff would hold its caller), the next command
        // trying again.
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.config.connect_timeout))
            .set_response_timeout(Some(self.config.response_timeout))
            .set_number_of_retries(0);
        let mut commands = ConnectionManager::new_with_config(client.clone(), manager)
            .await
            .map_err(unreachable(&at))?;
        check_version(&mut commands, &at).await?;
        let inner = Arc::new(Inner {
            client,
            commands,
            prefix: self.prefix,
            config: self.config,
            topics: Arc::default(),
            closed: AtomicBool::new(false),
            reader: ReaderState::default(),
            publish: Script::new(protocol::PUBLISH),
            position: Script::new(protocol::POSITION),
        });
        let reader = tokio::spawn(reader::run(inner.clone())).abort_handle();
        Ok(RedisBackplane { inner, reader })
    }
}

/// What the backplane and its reader share.
#[derive(Debug)]
struct Inner {
    client: redis::Client,
    /// Publishes and replays; reconnects on its own.
    commands: ConnectionManager,
    prefix: String,
    config: Config,
    topics: Arc<Topics>,
    closed: AtomicBool,
    reader: ReaderState,
    publish: Script,
    position: Script,
}

/// How subscribers reach the reader when it must read one more topic.
#[derive(Debug, Default)]
struct ReaderState {
    /// The reader connection's `CLIENT ID` (0 while it has none), to
    /// interrupt its wait with `CLIENT UNBLOCK`.
    id: AtomicI64,
    /// The generation of the topic set its current read was issued with.
    issued: AtomicU64,
    /// Wakes a reader that has no topic to read.
    wake: Notify,
}

/// The entries one replay step reads from Redis.
const PAGE: usize = 512;

fn failed(err: impl std::error::Error + Send + Sync + 'static) -> BackplaneError {
    BackplaneError::Failed(Box::new(err))
}

/// A command's failure, by what it is known to have done: Redis refused it
/// (an error reply: out of memory, say) or could not be reached, so it did
/// nothing; or no answer came (a timeout, a connection lost after the
/// command went out), so Redis may still run it.
fn failed_command(err: redis::RedisError) -> BackplaneError {
    let refused = matches!(
        err.kind(),
        redis::ErrorKind::Server(_) | redis::ErrorKind::Extension
    );
    match refused || err.is_connection_refusal() {
        true => failed(err),
        false => BackplaneError::Unanswered(Box::new(err)),
    }
}

/// The server is older than the backplane needs.
#[derive(Debug, thiserror::Error)]
#[error("the Redis backplane needs Redis 7.0 or later (for `XADD key <ms>-*`); the server at {at} says it is {version:?}")]
struct OldRedis {
    at: String,
    version: String,
}

/// Redis could not be reached (or did not answer) when connecting.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to Redis at {at}: {source}")]
struct Unreachable {
    /// The URL, its password left out.
    at: String,
    source: redis::RedisError,
}

/// Reports that the Redis `at` (a redacted URL) could not be reached.
fn unreachable(at: &str) -> impl Fn(redis::RedisError) -> BackplaneError + '_ {
    move |source| {
        failed(Unreachable {
            at: at.to_owned(),
            source,
        })
    }
}

/// `url` with any password replaced by `***`, for messages.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let hidden = match userinfo.contains(':') {
                true => format!("{user}:***"),
                false => "***".to_owned(),
            };
            format!("{scheme}://{hidden}{}", &rest[userinfo.len()..])
        }
        None => url.to_owned(),
    }
}

async fn check_version(commands: &mut ConnectionManager, at: &str) -> Result<(), BackplaneError> {
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(commands)
        .await
        .map_err(unreachable(at))?;
    let version = info
        .lines()
        .find_map(|line| line.strip_prefix("redis_version:"))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(major) if major >= 7 => Ok(()),
        _ => Err(failed(OldRedis {
            at: at.to_owned(),
            version,
        })),
    }
}

impl RedisBackplane {
    /// A backplane on the Redis at `url` (`redis://[user:password@]host:port/[db]`,
    /// or `rediss://` with the redis crate's TLS features); see [`RedisBuilder`].
    ///
    /// ```
    /// let builder = sse_runtime::hub::RedisBackplane::builder("redis://127.0.0.1:6379/");
    /// # drop(builder);
    /// ```
    pub fn builder(url: impl Into<String>) -> RedisBuilder {
        RedisBuilder {
            url: url.into(),
            prefix: "sse:".to_owned(),
            config: Config {
                history: 1024,
                block: Duration::from_secs(5),
                count: 512,
                connect_timeout: Duration::from_secs(2),
                response_timeout: Duration::from_secs(2),
                idempotency_window: DEFAULT_IDEMPOTENCY_WINDOW,
            },
        }
    }

    /// The Redis key of `topic`'s stream.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), sse_runtime::hub::BackplaneError> {
    /// let backplane = sse_runtime::hub::RedisBackplane::builder("redis://127.0.0.1/").connect().await?;
    /// assert_eq!(backplane.key("room-1"), "sse:room-1");
    /// # Ok(())
    /// # }
    /// ```
    pub fn key(&self, topic: &str) -> String {
        format!("{}{topic}", self.inner.prefix)
    }

    /// Interrupts the reader's wait until its read includes every topic
    /// attached before `generation` (or it has no connection: it reads the
    /// current set when it has one again).
    async fn nudge(&self, generation: u64) {
        let reader = &self.inner.reader;
        reader.wake.notify_one();
        let mut commands = self.inner.commands.clone();
        for _ in 0..200 {
            if reader.issued.load(Ordering::Acquire) >= generation {
                return;
            }
            let id = reader.id.load(Ordering::Acquire);
            if id == 0 {
                return;
            }
            let unblocked: redis::RedisResult<i64> = redis::cmd("CLIENT")
                .arg("UNBLOCK")
                .arg(id)
                .query_async(&mut commands)
                .await;
            match unblocked {
                // Unblocked: its next read includes the topic. Failed: the
                // block's end is the backstop.
                Ok(1) | Err(_) => return,
                // Between two reads: look again when it is waiting.
                Ok(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
    }

    /// Has the reader read `log` after `last` (where Redis's stream ended
    /// when a subscriber asked), unless it reads it already.
    async fn attach(&self, log: &TopicLog, last: Option<StreamId>) {
        if lock(&log.ring).attach(last.unwrap_or_default()) {
            self.nudge(self.inner.topics.changed()).await;
        }
    }

    async fn position(
        &self,
        key: &str,
        after: Option<StreamId>,
    ) -> Result<Position, BackplaneError> {
        let mut commands = self.inner.commands.clone();
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        let reply: Value = self
            .inner
            .position
            .key(key)
            .arg(after)
            .arg(PAGE)
            .invoke_async(&mut commands)
            .await
            .map_err(failed)?;
        Position::from_reply(reply).map_err(failed)
    }
}

impl Drop for RedisBackplane {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Backplane for RedisBackplane {
    type Cursor = RedisCursor;

    async fn publish(
        &self,
        topic: &str,
        body: EventBody,
        key: Option<&str>,
    ) -> Result<Arc<str>, BackplaneError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(BackplaneError::Closed);
        }
        let mut commands = self.inner.commands.clone();
        let stream = self.key(topic);
        let mut invocation = self.inner.publish.prepare_invoke();
        invocation.key(&stream);
        if let Some(key) = key {
            invocation.key(protocol::idempotency_key(&stream, key));
        }
        let config = &self.inner.config;
        let window = config.idempotency_window.as_millis().max(1) as u64;
        invocation.arg(config.history).arg(body.data()).arg(window);
        if let Some(name) = body.name() {
            invocation.arg(name);
        }
        let id: String = invocation
            .invoke_async(&mut commands)
            .await
            .map_err(failed_command)?;
        Ok(id.into())
    }

    async fn subscribe(
        &self,
        topic: &str,
        last_event_id: Option<&str>,
    ) -> Result<Subscribed<RedisCursor>, BackplaneError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(BackplaneError::Closed);
        }
        let topics = &self.inner.topics;
        let (log, slot) = topics.enter(topic, || self.key(topic), self.inner.config.history);
        // Made first, so that leaving early (an error) takes the cursor out.
        let mut cursor = RedisCursor::new(log.clone(), slot, topics.clone());
        // An id that is not a stream id names nothing: replay all that is kept.
        let (mut after, mut lost) = match last_event_id.map(StreamId::parse) {
            None => (None, false),
            Some(Some(id)) => (Some(id), false),
            Some(None) => (Some(StreamId::ZERO), true),
        };
        // Whether Redis has said where the stream is, so an id beyond what
        // this instance read is one Redis gave.
        let mut asked = false;
        let mut skipped = 0;
        if after.is_none() {
            // Live: after the last event Redis has, which this instance's
            // reader may not have read yet.
            let position = self.position(&log.key, None).await?;
            self.attach(&log, position.last).await;
            let end = position.last.unwrap_or_default();
            cursor.replayed_through(end);
            (after, asked) = (Some(end), true);
        }
        loop {
            {
                let ring = lock(&log.ring);
                // A log made after `close` collected the logs is not
                // closed itself: the backplane's flag says so.
                if ring.is_closed() || self.inner.closed.load(Ordering::Acquire) {
                    return Err(BackplaneError::Closed);
                }
                if let Some(start) = ring.start(after) {
                    cursor.place(start.position);
                    lost |= start.lost;
                    break;
                }
                if asked && after > ring.read_after && ring.read_after.is_some() {
                    // The replay went further than the reader has read.
                    cursor.place(ring.end());
                    break;
                }
            }
            let position = self.position(&log.key, after).await?;
            if !asked {
                asked = true;
                if let (Some(had), false) = (after, lost) {
                    let resume = protocol::resume(had, position.first, position.last);
                    lost = resume.lost;
                    if resume.after != had {
                        after = Some(resume.after);
                        continue; // read from there instead
                    }
                }
            }
            self.attach(&log, position.last).await;
            let complete = position.entries.len() < PAGE;
            skipped += cursor.replay(position.entries);
            if let (true, Some(replayed), Some(last)) = (complete, after, position.last) {
                // Nothing more after it: the replay reaches the stream's end.
                let end = replayed.max(last);
                cursor.replayed_through(end);
                after = Some(end);
            }
            if let Some(id) = cursor.replayed_to() {
                after = after.max(Some(id));
            }
        }
        if skipped > 0 {
            tracing::warn!(
                key = %log.key,
                skipped,
                "redis backplane: entries that are not events (fields other than `event` and `data`) were skipped"
            );
        }
        Ok(Subscribed {
            cursor,
            history_lost: lost,
        })
    }

    fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.reader.abort();
        self.inner.topics.close();
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_url_in_a_message_keeps_no_password() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379/", "redis://127.0.0.1:6379/"),
            ("redis://:s3cret@host:6379/0", "redis://:***@host:6379/0"),
            ("redis://ana:s3cret@host/", "redis://ana:***@host/"),
            ("rediss://token@host/", "rediss://***@host/"),
            ("redis://ana:p@ss@host/", "redis://ana:***@host/"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redacted(url), shown, "{url}");
        }
    }
}
