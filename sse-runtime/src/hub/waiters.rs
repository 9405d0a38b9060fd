//! The cursors of one topic that wait for its next event, and whether
//! there will be one.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Waker};

/// Locks a topic's state. Nothing panics while holding these locks, so a
/// poisoned one is recovered rather than cascaded.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One slot per cursor holding the waker of a cursor that waits for the
/// next event. A slot, not a list, so a cursor polled twice registers once
/// and a dropped cursor leaves nothing behind. Closed once the topic will
/// have no more events: every waiter is woken, to read what is left.
#[derive(Debug, Default)]
pub(super) struct Waiters {
    closed: bool,
    waiting: Vec<Option<Waker>>,
    free: Vec<usize>,
    /// Kept between events to collect the wakers in, so that waking
    /// thousands of subscribers allocates nothing.
    spare: Vec<Waker>,
}

impl Waiters {
    /// Waiters of a topic that is closed already, or not.
    pub(super) fn new(closed: bool) -> Self {
        Self {
            closed,
            ..Self::default()
        }
    }

    /// No more events: returns every waker, to be woken once the lock is
    /// released.
    pub(super) fn close(&mut self) -> Vec<Waker> {
        self.closed = true;
        self.take()
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed
    }

    /// A slot for a new cursor.
    pub(super) fn slot(&mut self) -> usize {
        self.free.pop().unwrap_or_else(|| {
            self.waiting.push(None);
            self.waiting.len() - 1
        })
    }

    /// Frees a dropped cursor's slot.
    pub(super) fn release(&mut self, slot: usize) {
        self.waiting[slot] = None;
        self.free.push(slot);
    }

    /// Registers `cx`'s waker in `slot` (once, however often it is polled).
    pub(super) fn register(&mut self, slot: usize, cx: &Context<'_>) {
        match &mut self.waiting[slot] {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
    }

    /// Takes every registered waker, to be woken once the lock is released.
    pub(super) fn take(&mut self) -> Vec<Waker> {
        let mut wakers = std::mem::take(&mut self.spare);
        wakers.extend(self.waiting.iter_mut().filter_map(Option::take));
        wakers
    }

    /// Returns an emptied buffer from [`take`](Self::take) for reuse.
    pub(super) fn give_back(&mut self, wakers: Vec<Waker>) {
        if wakers.capacity() > self.spare.capacity() {
            self.spare = wakers;
        }
    }

    #[cfg(test)]
    pub(super) fn slots(&self) -> usize {
        self.waiting.len()
    }

    #[cfg(test)]
    pub(super) fn none_waiting(&self) -> bool {
        self.waiting.iter().all(Option::is_none)
    }

    #[cfg(test)]
    pub(super) fn spare_capacity(&self) -> Option<usize> {
        self.spare.is_empty().then_some(self.spare.capacity())
    }
}
