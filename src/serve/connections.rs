//! The connections being served, and which of them a new client displaces when
//! there is no room for it.
//!
//! Connections are served up to a limit (the open-file limit less a reserve, see
//! [`super::http::connection_limit`]). A flood of idle connections larger than that
//! would otherwise hold every slot until the header-read timeout closed them, and
//! every new client, `/healthz` too, would be turned away for those seconds. So when
//! no slot is free, the connection that has been idle longest is closed to make room,
//! as nginx reuses its keep-alive connections: one that never sent a request line, or
//! a slow one still sending its headers, or a keep-alive connection between requests.
//! A connection with a request in flight (its response still being written) is never
//! closed for another: when all are busy, the new client is turned away as before.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use hyper::body::{Frame, SizeHint};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// How long a new client waits for the slot of the connection closed for it: the
/// closed connection's task ends at its next poll, so this is a bound, not a delay.
const SLOT_HANDOVER: Duration = Duration::from_secs(1);

/// Every connection being served, by slot, and the idle ones, oldest first.
pub(super) struct Connections {
    slots: Arc<Semaphore>,
    idle: Mutex<IdleQueue>,
}

/// The idle connections by when they became idle (ties by their number), each with
/// the signal that closes it.
#[derive(Default)]
struct IdleQueue {
    next_id: u64,
    oldest_first: BTreeMap<(Instant, u64), Arc<Notify>>,
}

/// One connection being served: its slot, and whether it is idle. Dropped when the
/// connection ends, which frees the slot.
pub(super) struct Connection {
    id: u64,
    registry: Arc<Connections>,
    /// Notified when the connection is to be closed for a new client.
    shed: Arc<Notify>,
    state: Mutex<State>,
    _slot: OwnedSemaphorePermit,
}

/// How many requests of a connection are in flight, and since when it has had none.
struct State {
    in_flight: usize,
    idle_since: Option<Instant>,
}

impl Connections {
    /// Room for `limit` connections at once.
    pub(super) fn new(limit: usize) -> Arc<Connections> {
        Arc::new(Connections {
            slots: Arc::new(Semaphore::new(limit)),
            idle: Mutex::new(IdleQueue::default()),
        })
    }

    /// A slot for a new connection: a free one, else that of the connection idle
    /// longest, which is closed for it; `None` when every connection is busy.
    pub(super) async fn admit(self: &Arc<Self>) -> Option<Arc<Connection>> {
        let slot = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if !self.shed_oldest_idle() {
                    return None;
                }
                let handover = Arc::clone(&self.slots).acquire_owned();
                tokio::time::timeout(SLOT_HANDOVER, handover)
                    .await
                    .ok()?
                    .ok()?
            }
        };
        let shed = Arc::new(Notify::new());
        let now = Instant::now();
        let id = {
            let mut idle = self.lock();
            let id = idle.next_id;
            idle.next_id += 1;
            idle.oldest_first.insert((now, id), Arc::clone(&shed));
            id
        };
        Some(Arc::new(Connection {
            id,
            registry: Arc::clone(self),
            shed,
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: Some(now),
            }),
            _slot: slot,
        }))
    }

    /// Signals the connection idle longest to close; false when none is idle.
    fn shed_oldest_idle(&self) -> bool {
        let oldest = self.lock().oldest_first.pop_first();
        match oldest {
            Some((_, shed)) => {
                // A permit is stored if its task is not waiting yet: it closes at its
                // next poll all the same.
                shed.notify_one();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IdleQueue> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Connection {
    /// Resolves when the connection is to be closed for a new client.
    pub(super) async fn shed(&self) {
        self.shed.notified().await;
    }

    /// Marks a request in flight until the guard (kept by its response body) drops.
    pub(super) fn busy(self: &Arc<Self>) -> Busy {
        let mut state = self.lock_state();
        state.in_flight += 1;
        if let Some(since) = state.idle_since.take() {
            self.registry.lock().oldest_first.remove(&(since, self.id));
        }
        Busy(Arc::clone(self))
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(since) = state.idle_since.take() {
            self.registry.lock().oldest_first.remove(&(since, self.id));
        }
    }
}

/// A request of a connection in flight; dropping it makes the connection idle again
/// once no other request is.
pub(super) struct Busy(Arc<Connection>);

impl Drop for Busy {
    fn drop(&mut self) {
        let connection = &self.0;
        let mut state = connection.lock_state();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 && state.idle_since.is_none() {
            let now = Instant::now();
            state.idle_since = Some(now);
            connection
                .registry
                .lock()
                .oldest_first
                .insert((now, connection.id), Arc::clone(&connection.shed));
        }
    }
}

/// A response body that keeps its request marked in flight until the body has been
/// written out (hyper drops it then) or the connection is gone.
pub(super) struct BusyBody {
    body: Body,
    _busy: Busy,
}

impl BusyBody {
    pub(super) fn new(body: Body, busy: Busy) -> BusyBody {
        BusyBody { body, _busy: busy }
    }
}

impl hyper::body::Body for BusyBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `connection` has been told to close, without waiting.
    async fn was_shed(connection: &Connection) -> bool {
        tokio::time::timeout(Duration::from_millis(10), connection.shed())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_new_connection_displaces_the_one_idle_longest() {
        let connections = Connections::new(2);
        let first = connections.admit().await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = connections.admit().await.unwrap();
        let (first_shed, second_shed) = (Arc::clone(&first), Arc::clone(&second));
        // The first is closed for the third: its task drops it, freeing the slot.
        let closer = tokio::spawn(async move {
            first_shed.shed().await;
            drop(first_shed);
        });
        drop(first);
        let third = connections.admit().await.expect("room made for the third");
        closer.await.unwrap();
        assert!(!was_shed(&second_shed).await, "the newer one stays");
        drop((second, second_shed, third));
    }

    #[tokio::test]
    async fn a_connection_with_a_request_in_flight_is_not_displaced() {
        let connections = Connections::new(1);
        let only = connections.admit().await.unwrap();
        let busy = only.busy();
        assert!(connections.admit().await.is_none(), "no idle one to close");
        assert!(!was_shed(&only).await);
        // Idle again once the response is written: then it gives way.
        drop(busy);
        let closer = {
            let only = Arc::clone(&only);
            tokio::spawn(async move {
                only.shed().await;
            })
        };
        drop(only);
        let admitting = tokio::spawn({
            let connections = Arc::clone(&connections);
            async move { connections.admit().await.is_some() }
        });
        closer.await.unwrap();
        assert!(admitting.await.unwrap(), "room made once it was idle");
    }
}
