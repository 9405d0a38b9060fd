//! The one task per instance that reads every topic its subscribers read,
//! with one blocking `XREAD` over all of them, and hands each event, framed
//! once, to that topic's ring.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};

use super::protocol;
use super::topics::TopicLog;
use super::Inner;
use crate::hub::waiters::lock;

/// The first wait before connecting again; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Reads until the backplane is closed or dropped; after a failure,
/// connects again (with backoff) and goes on after the last id each topic
/// had, so its subscribers get no gap and no duplicate.
pub(super) async fn run(inner: Arc<Inner>) {
    let mut backoff = MIN_BACKOFF;
    while !inner.closed.load(Ordering::Acquire) {
        let failure = match connect(&inner).await {
            Ok(mut connection) => {
                backoff = MIN_BACKOFF;
                read(&inner, &mut connection).await
            }
            Err(err) => Err(err),
        };
        inner.reader.id.store(0, Ordering::Release);
        if let Err(err) = failure {
            if inner.closed.load(Ordering::Acquire) {
                return;
            }
            tracing::warn!(
                retry_in = ?backoff,
                "redis backplane: reading failed ({err}); connecting again"
            );
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

async fn connect(inner: &Inner) -> redis::RedisResult<MultiplexedConnection> {
    // The reply to a blocking read comes after the block at the latest.
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(inner.config.connect_timeout))
        .set_response_timeout(Some(inner.config.block + inner.config.response_timeout));
    inner
        .client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// Reads on one connection until it fails or the backplane closes.
async fn read(inner: &Inner, connection: &mut MultiplexedConnection) -> redis::RedisResult<()> {
    let id: i64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(connection)
        .await?;
    inner.reader.id.store(id, Ordering::Release);
    let mut reading: HashMap<Vec<u8>, Arc<TopicLog>> = HashMap::new();
    let mut read_generation = None;
    let block_ms = inner.config.block.as_millis().max(1) as u64;
    loop {
        if inner.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        let generation = inner.topics.generation();
        if read_generation != Some(generation) {
            reading = inner
                .topics
                .to_read()
                .into_iter()
                .map(|log| (log.key.as_bytes().to_vec(), log))
                .collect();
            read_generation = Some(generation);
        }
        // What `nudge` waits for: the read below includes every topic
        // attached before this generation.
        inner.reader.issued.store(generation, Ordering::Release);
        if reading.is_empty() {
            tokio::select! {
                () = inner.reader.wake.notified() => {}
                () = tokio::time::sleep(inner.config.block) => {}
            }
            continue;
        }
        let mut xread = redis::cmd("XREAD");
        xread
            .arg("COUNT")
            .arg(inner.config.count)
            .arg("BLOCK")
            .arg(block_ms)
            .arg("STREAMS");
        let mut after = Vec::with_capacity(reading.len());
        for (key, log) in &reading {
            xread.arg(key);
            let read_after = lock(&log.ring).read_after.unwrap_or_default();
            after.push(read_after.to_string());
        }
        xread.arg(&after);
        let reply: Value = xread.query_async(connection).await?;
        let streams = protocol::xread(reply).map_err(|err| {
            redis::RedisError::from((redis::ErrorKind::Client, "XREAD", err.to_string()))
        })?;
        for (key, entries) in streams {
            let Some(log) = reading.get(&key) else {
                continue;
            };
            let (mut wakers, skipped) = lock(&log.ring).extend(entries);
            if skipped > 0 {
                tracing::warn!(
                    key = %log.key,
                    skipped,
                    "redis backplane: entries that are not events (fields other than `event` and `data`) were skipped"
                );
            }
            wakers.drain(..).for_each(std::task::Waker::wake);
            lock(&log.ring).give_back(wakers);
        }
    }
}
