//! One advisories request per registry and credentials for a whole `config` run, as `npm audit`
//! sends one per tree (issue 12). Each server entry is audited by its own task, with its own npm
//! configuration; a task that has its package's and tree's facts waits here with the
//! (name, version) pairs it needs, and when every running task is either waiting or finished,
//! the last one to arrive (or to leave) asks each registry once for all of them.
//!
//! A task waits here holding no lock, permit or budget reservation (its facts are complete), so
//! the others can always finish. A task that was not counted (`join`) makes the round fire at
//! once: a split round costs one more request, never a wait.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use tokio::sync::oneshot;

use super::memo::Asker;
use super::scan::{Advisories, Registries};
use crate::registry::RegistryClient;

struct Waiter {
    /// Each pair with the asker its registry and credentials make.
    pairs: Vec<(Asker, (String, String))>,
    tx: oneshot::Sender<Advisories>,
}

#[derive(Default)]
struct State {
    /// Tasks counted in the run that have not finished.
    active: usize,
    waiting: Vec<Waiter>,
    /// A client for each asker of the waiting pairs (any of them: they send the same
    /// credential to the same registry).
    clients: HashMap<Asker, RegistryClient>,
    /// Rounds sent so far (the tests check how answers were grouped).
    sent: usize,
}

/// The run's advisories rounds; shared by every task of one `config` run (in the run's memo).
#[derive(Default)]
pub struct AdvisoryRounds {
    state: Mutex<State>,
}

impl AdvisoryRounds {
    /// Counts a task that may ask: rounds wait for it until it asks or [`Self::leave`]s.
    pub fn join(&self) {
        self.state
            .lock()
            .expect("no panics while holding the lock")
            .active += 1;
    }

    /// The task will not ask again: if every other running task is waiting, their round is
    /// sent now.
    pub async fn leave(&self) {
        let due = {
            let mut s = self.state.lock().expect("no panics while holding the lock");
            s.active = s.active.saturating_sub(1);
            Self::take_if_due(&mut s)
        };
        if let Some(due) = due {
            send(due).await;
        }
    }

    /// The advisories of `pairs`, each asked of the registry `registries` chooses for its name
    /// (with that registry's credential), in the run's current round.
    pub async fn ask<'a>(
        &self,
        registries: &Registries,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Advisories {
        let (tx, rx) = oneshot::channel();
        let due = {
            let mut s = self.state.lock().expect("no panics while holding the lock");
            let mut mine = Vec::new();
            for (name, version) in pairs {
                // A name whose registry cannot be resolved gets no answer (as `add_advisories`).
                let Ok((client, _)) = registries.resolve(name) else {
                    continue;
                };
                let asker = registries.asker(&client);
                s.clients.entry(asker.clone()).or_insert(client);
                mine.push((asker, (name.to_string(), version.to_string())));
            }
            s.waiting.push(Waiter { pairs: mine, tx });
            Self::take_if_due(&mut s)
        };
        if let Some(due) = due {
            send(due).await;
        }
        // The sender is dropped only after sending, and `send` sends to every waiter.
        rx.await.unwrap_or_default()
    }

    /// The waiters and clients of a round that is complete: every counted task still running
    /// is waiting (an uncounted task is its own round).
    fn take_if_due(s: &mut State) -> Option<(Vec<Waiter>, HashMap<Asker, RegistryClient>)> {
        if s.waiting.is_empty() || s.waiting.len() < s.active {
            return None;
        }
        s.sent += 1;
        Some((
            std::mem::take(&mut s.waiting),
            std::mem::take(&mut s.clients),
        ))
    }
}

/// One bulk request per asker (in the endpoint's chunks), then each waiter's answers.
async fn send((waiters, clients): (Vec<Waiter>, HashMap<Asker, RegistryClient>)) {
    let mut asked: HashMap<&Asker, BTreeSet<(String, String)>> = HashMap::new();
    for w in &waiters {
        for (asker, pair) in &w.pairs {
            asked.entry(asker).or_default().insert(pair.clone());
        }
    }
    let clients = &clients;
    let answers = futures::future::join_all(asked.into_iter().map(|(asker, set)| async move {
        let client = &clients[asker];
        (asker.clone(), client.advisories(&set).await)
    }))
    .await;
    let answers: HashMap<Asker, Advisories> = answers.into_iter().collect();
    for w in waiters {
        let mine: Advisories = w
            .pairs
            .iter()
            .filter_map(|(asker, pair)| {
                let outcome = answers.get(asker)?.get(pair)?;
                Some((pair.clone(), outcome.clone()))
            })
            .collect();
        // A waiter that went away (its task was dropped) needs no answer.
        let _ = w.tx.send(mine);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::registry::HttpConfig;

    /// Nothing listens on the discard port of loopback: every POST fails at once, so each pair's
    /// answer is an error naming the registry, and a missing answer would show as absent.
    fn registries() -> Registries {
        let url = url::Url::parse("http://127.0.0.1:9/").unwrap();
        Registries::single(&url, HttpConfig::default()).unwrap()
    }

    async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(20), f)
            .await
            .expect("the round completed")
    }

    #[tokio::test]
    async fn an_uncounted_caller_is_its_own_round() {
        let reg = registries();
        let rounds = AdvisoryRounds::default();
        let got = within(rounds.ask(&reg, [("a", "1.0.0")])).await;
        assert!(got[&("a".to_string(), "1.0.0".to_string())].is_err());
        let again = within(rounds.ask(&reg, [("b", "1.0.0")])).await;
        assert_eq!(again.len(), 1);
        assert_eq!(rounds.state.lock().unwrap().sent, 2);
    }

    #[tokio::test]
    async fn a_round_waits_for_every_counted_task_and_answers_each_its_own_pairs() {
        let reg = registries();
        let rounds = AdvisoryRounds::default();
        rounds.join();
        rounds.join();
        rounds.join();
        let (a, b, ()) = within(async {
            tokio::join!(
                rounds.ask(&reg, [("a", "1.0.0")]),
                async {
                    // Asks after the first task is already waiting.
                    tokio::task::yield_now().await;
                    rounds.ask(&reg, [("b", "2.0.0"), ("a", "1.0.0")]).await
                },
                async {
                    // The third task finishes without asking: the round must not wait for it.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    rounds.leave().await;
                }
            )
        })
        .await;
        assert_eq!(
            rounds.state.lock().unwrap().sent,
            1,
            "one round for all three tasks"
        );
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(b.len(), 2, "{b:?}");
        assert!(b.contains_key(&("b".to_string(), "2.0.0".to_string())));
    }
}
