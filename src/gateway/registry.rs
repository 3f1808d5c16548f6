//! This node's connected sockets, by user. Delivery never blocks: each socket has a
//! bounded queue, and a socket whose queue is full is told to close with 4008 ("too
//! slow") instead of letting memory grow.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU16, Ordering},
    },
};

use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use crate::service::dispatch::LocalSockets;

/// Asks a session to close with a code.
#[derive(Default)]
pub struct Kick {
    code: AtomicU16,
    notify: Notify,
}

impl Kick {
    pub fn kick(&self, code: u16) {
        if self.code.compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            self.notify.notify_one();
        }
    }

    /// Resolves with the code once kicked.
    pub async fn kicked(&self) -> u16 {
        loop {
            let c = self.code.load(Ordering::Acquire);
            if c != 0 {
                return c;
            }
            self.notify.notified().await;
        }
    }
}

pub struct SessionHandle {
    pub id: Uuid,
    pub tx: mpsc::Sender<Arc<str>>,
    pub kick: Arc<Kick>,
}

#[derive(Default)]
pub struct Registry {
    users: RwLock<HashMap<Uuid, Vec<SessionHandle>>>,
}

impl Registry {
    pub fn register(&self, user: Uuid, handle: SessionHandle) {
        self.users.write().unwrap_or_else(|p| p.into_inner()).entry(user).or_default().push(handle);
    }

    pub fn unregister(&self, user: Uuid, session: Uuid) {
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = users.get_mut(&user) {
            list.retain(|s| s.id != session);
            if list.is_empty() {
                users.remove(&user);
            }
        }
    }

    /// Queue `text` for every local socket of every user in `to`.
    pub fn deliver(&self, to: &[Uuid], text: &Arc<str>) {
        let users = self.users.read().unwrap_or_else(|p| p.into_inner());
        for user in to {
            if let Some(list) = users.get(user) {
                for s in list {
                    if let Err(mpsc::error::TrySendError::Full(_)) = s.tx.try_send(text.clone()) {
                        s.kick.kick(super::CLOSE_TOO_SLOW);
                    }
                }
            }
        }
    }

    /// [`Registry::deliver`] restricted to the sockets in `only` (when not empty) and not
    /// in `except`.
    pub fn deliver_some(&self, to: &[Uuid], only: &[Uuid], except: &[Uuid], text: &Arc<str>) {
        let users = self.users.read().unwrap_or_else(|p| p.into_inner());
        for user in to {
            if let Some(list) = users.get(user) {
                for s in list {
                    if (!only.is_empty() && !only.contains(&s.id)) || except.contains(&s.id) {
                        continue;
                    }
                    if let Err(mpsc::error::TrySendError::Full(_)) = s.tx.try_send(text.clone()) {
                        s.kick.kick(super::CLOSE_TOO_SLOW);
                    }
                }
            }
        }
    }

    /// `(user, session)` of every local socket.
    pub fn sessions(&self) -> Vec<(Uuid, Uuid)> {
        let users = self.users.read().unwrap_or_else(|p| p.into_inner());
        users.iter().flat_map(|(u, list)| list.iter().map(move |s| (*u, s.id))).collect()
    }

    pub fn len(&self) -> usize {
        self.users.read().unwrap_or_else(|p| p.into_inner()).values().map(Vec::len).sum()
    }

    /// Distinct users with a socket here.
    pub fn users(&self) -> usize {
        self.users.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn kick_all(&self, code: u16) {
        let users = self.users.read().unwrap_or_else(|p| p.into_inner());
        for s in users.values().flatten() {
            s.kick.kick(code);
        }
    }
}

impl LocalSockets for Registry {
    fn deliver(&self, to: &[Uuid], only: &[Uuid], except: &[Uuid], text: &Arc<str>) {
        if only.is_empty() && except.is_empty() {
            Registry::deliver(self, to, text)
        } else {
            self.deliver_some(to, only, except, text)
        }
    }

    fn sessions(&self) -> Vec<(Uuid, Uuid)> {
        Registry::sessions(self)
    }

    fn disconnect(&self, user: Uuid) {
        let users = self.users.read().unwrap_or_else(|p| p.into_inner());
        for s in users.get(&user).into_iter().flatten() {
            s.kick.kick(super::CLOSE_ACCOUNT_DISABLED);
        }
    }
}
