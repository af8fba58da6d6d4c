//! One memory budget for registry documents, from their first byte on the wire until the caller
//! is done with them (issue K4/K(c)).
//!
//! Before, the budget was taken only once a document had been downloaded: bodies still arriving
//! were bounded by the request concurrency × the per-document cap (16 × 64 MiB), not by the
//! budget. Now a download reserves its bytes before it reads them (all of `Content-Length` when
//! the server gives it, else growing in steps as chunks arrive), and the caller keeps the same
//! reservation, grown, while it parses.
//!
//! Reserving while holding is the classic way to deadlock: every download holds part of the
//! budget and waits for more. So a reservation that cannot grow waits only while some other
//! holder is not waiting (it will finish or fail and release); when every other holder waits,
//! one reservation at a time (the "overdraft") may go past the shared part. The shared part is
//! the budget less one document's largest reservation, so the total never exceeds the budget.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// Growth step for a body of unknown length: one lock per step, not per chunk.
const STEP: u64 = 256 * 1024;

#[derive(Clone, Debug)]
pub struct BodyBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    notify: Notify,
    /// What all reservations together may hold without the overdraft.
    shared: u64,
    total: u64,
    /// First come, first served for empty reservations (see [`BodyBudget::first_come`]).
    fair: bool,
}

#[derive(Debug, Default)]
struct State {
    used: u64,
    peak: u64,
    holders: usize,
    waiting: usize,
    next_id: u64,
    /// The one reservation allowed past `shared`, while it is.
    overdraft: Option<u64>,
    /// The oldest empty reservation waiting for room. Later empty reservations queue behind it,
    /// so a large document is not starved by a stream of small ones that always fit.
    first_waiter: Option<u64>,
}

impl BodyBudget {
    /// A budget of `total` bytes, where one reservation may reach `largest` bytes.
    pub fn new(total: u64, largest: u64) -> BodyBudget {
        let total = total.max(1);
        BodyBudget {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                notify: Notify::new(),
                shared: total.saturating_sub(largest),
                fair: false,
                total,
            }),
        }
    }

    /// A budget where an empty reservation waits behind an earlier one that did not fit, so a
    /// large body is not starved by a stream of small ones. Only for holders that wait on
    /// nothing else while they hold (downloads read straight through, then analysed): queueing
    /// behind a large body is safe only when every holder ahead of it is sure to finish.
    pub fn first_come(total: u64, largest: u64) -> BodyBudget {
        let mut b = BodyBudget::new(total, largest);
        Arc::get_mut(&mut b.inner).expect("not shared yet").fair = true;
        b
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An empty reservation; it counts as a holder until dropped.
    pub fn reserve(&self) -> Reservation {
        let mut s = self.lock();
        s.holders += 1;
        s.next_id += 1;
        Reservation {
            budget: self.clone(),
            id: s.next_id,
            bytes: 0,
            waiting: false,
        }
    }

    /// The most bytes reserved at once so far (for tests and benchmarks).
    pub fn peak(&self) -> u64 {
        self.lock().peak
    }

    /// The bytes reserved now.
    pub fn used(&self) -> u64 {
        self.lock().used
    }

    /// The budget's size.
    pub fn total(&self) -> u64 {
        self.inner.total
    }
}

/// Bytes of the budget held by one document; released when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: BodyBudget,
    id: u64,
    bytes: u64,
    waiting: bool,
}

impl Reservation {
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Grows the reservation to at least `want` bytes, waiting for others to release budget.
    pub async fn grow_to(&mut self, want: u64) {
        if want <= self.bytes {
            return;
        }
        let n = want - self.bytes;
        loop {
            let inner = Arc::clone(&self.budget.inner);
            let notified = inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let newly_waiting = {
                let mut s = self.budget.lock();
                // A reservation that holds nothing yet waits its turn behind an earlier one
                // that did not fit; one already holding bytes (a body part-read) goes on, so it
                // can finish and release.
                let queued =
                    inner.fair && self.bytes == 0 && s.first_waiter.is_some_and(|w| w != self.id);
                let fits = s.used + n <= inner.shared && !queued;
                let waiting_others = s.waiting - usize::from(self.waiting);
                let all_others_wait = waiting_others + 1 == s.holders;
                let overdraft_free = s.overdraft.is_none_or(|o| o == self.id);
                if fits || (all_others_wait && overdraft_free) {
                    if !fits {
                        s.overdraft = Some(self.id);
                    }
                    s.used += n;
                    s.peak = s.peak.max(s.used);
                    if s.first_waiter == Some(self.id) {
                        s.first_waiter = None;
                    }
                    if self.waiting {
                        s.waiting -= 1;
                        self.waiting = false;
                    }
                    self.bytes += n;
                    return;
                }
                if inner.fair && self.bytes == 0 && s.first_waiter.is_none() {
                    s.first_waiter = Some(self.id);
                }
                if self.waiting {
                    false
                } else {
                    s.waiting += 1;
                    self.waiting = true;
                    true
                }
            };
            // A new waiter can make "every other holder waits" true for an earlier one.
            if newly_waiting {
                inner.notify.notify_waiters();
            }
            notified.await;
        }
    }

    /// Grows by whole steps to cover `len` bytes of a body of unknown length, at most `cap`.
    pub async fn cover(&mut self, len: u64, cap: u64) {
        if len > self.bytes {
            self.grow_to(len.div_ceil(STEP).saturating_mul(STEP).min(cap.max(len)))
                .await;
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        {
            let mut s = self.budget.lock();
            s.used -= self.bytes;
            s.holders -= 1;
            if self.waiting {
                s.waiting -= 1;
            }
            if s.overdraft == Some(self.id) {
                s.overdraft = None;
            }
            if s.first_waiter == Some(self.id) {
                s.first_waiter = None;
            }
        }
        self.budget.inner.notify.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_wait_for_each_other_and_never_pass_the_budget() {
        let budget = BodyBudget::new(100, 40);
        let mut a = budget.reserve();
        a.grow_to(60).await;
        let mut b = budget.reserve();
        // 60 shared of 60: b would wait while a is not waiting.
        let grow_b = tokio::time::timeout(std::time::Duration::from_millis(50), b.grow_to(30));
        assert!(
            grow_b.await.is_err(),
            "b waits while a holds the shared part"
        );
        drop(a);
        b.grow_to(30).await;
        assert_eq!(budget.used(), 30);
        assert!(budget.peak() <= budget.total());
    }

    #[tokio::test]
    async fn a_large_reservation_is_not_starved_by_small_ones() {
        let budget = BodyBudget::first_come(100, 40);
        let mut small = budget.reserve();
        small.grow_to(30).await;
        // 50 does not fit beside 30 in the shared 60: `big` waits for room.
        let mut big = budget.reserve();
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let waiting = tokio::spawn(async move {
            big.grow_to(50).await;
            let _ = tx.send(big.bytes());
            big
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(rx.try_recv().is_err(), "big did not wait");
        // A later small one would fit (30 + 10 <= 60), but it queues behind `big`.
        let mut later = budget.reserve();
        let later_grow =
            tokio::time::timeout(std::time::Duration::from_millis(20), later.grow_to(10));
        assert!(later_grow.await.is_err(), "the later one went ahead");
        // A holder part-way through its body still grows, so it can finish.
        small.grow_to(35).await;
        drop(small);
        let big = waiting.await.unwrap();
        assert_eq!(big.bytes(), 50);
        drop(big);
        later.grow_to(10).await;
        assert!(budget.peak() <= budget.total());
    }

    #[tokio::test]
    async fn without_first_come_a_small_reservation_goes_ahead() {
        // The packuments' budget: its holders wait on other requests while they hold, so a
        // small document must not queue behind a large one that waits for them.
        let budget = BodyBudget::new(100, 40);
        let mut small = budget.reserve();
        small.grow_to(30).await;
        let mut big = budget.reserve();
        let grow_big = tokio::time::timeout(std::time::Duration::from_millis(20), big.grow_to(50));
        assert!(grow_big.await.is_err());
        let mut later = budget.reserve();
        later.grow_to(10).await;
        assert_eq!(budget.used(), 40);
    }

    #[tokio::test]
    async fn when_every_holder_waits_one_goes_on_past_the_shared_part() {
        let budget = BodyBudget::new(100, 40);
        let mut a = budget.reserve();
        let mut b = budget.reserve();
        a.grow_to(30).await;
        b.grow_to(30).await;
        // Both want 40: neither fits in the shared 60; one overdraws, finishes, and the other
        // then fits. No deadlock, and the total stays within the budget.
        let (ra, rb) = tokio::join!(
            async {
                a.grow_to(40).await;
                drop(a);
            },
            async {
                b.grow_to(40).await;
                drop(b);
            }
        );
        let _ = (ra, rb);
        assert_eq!(budget.used(), 0);
        assert!(budget.peak() <= 100, "{}", budget.peak());
    }
}
