//! How many connections are open, in all and per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::config::ConnectionLimits;

/// Counts open connections, in all and per address.
pub(super) struct Gate {
    limits: ConnectionLimits,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One admitted connection; gives its place back when dropped.
pub(super) struct Admitted {
    gate: Arc<Gate>,
    address: IpAddr,
}

impl Gate {
    pub(super) fn new(limits: ConnectionLimits) -> Self {
        Self {
            limits,
            open: Mutex::new(Open::default()),
        }
    }

    fn open(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for a connection from `address`, if one is free.
    pub(super) fn admit(self: &Arc<Self>, address: IpAddr) -> Option<Admitted> {
        let mut open = self.open();
        let from_address = open.by_address.get(&address).copied().unwrap_or(0);
        let full = |count: usize, limit: usize| limit != 0 && count >= limit;
        if full(open.total, self.limits.max_connections)
            || full(from_address, self.limits.max_per_address)
        {
            return None;
        }
        open.total += 1;
        open.by_address.insert(address, from_address + 1);
        Some(Admitted {
            gate: self.clone(),
            address,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.gate.open();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}
