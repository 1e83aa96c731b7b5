//! Legacy sessions on the server side (revisions before 2026-07-28): the client an `initialize`
//! named, and `mcp_server_sessions_active{client_name}` and
//! `mcp_server_session_duration_seconds{client_name}` from a successful `initialize` until rmcp
//! drops the session's handler (after the client's `DELETE`, when the session expires, or when a
//! stdio connection closes).

use super::context::SessionClient;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Instant;

/// The session of one handler; nothing on 2026-07-28, where each request has a handler of its
/// own and there is no session.
#[derive(Default)]
pub(crate) struct Session {
    client: OnceLock<SessionClient>,
    /// The open session: its start and its `client_name` label.
    open: Mutex<Option<(Instant, &'static str)>>,
}

impl Session {
    /// The client `initialize` named, or none.
    pub(crate) fn client(&self) -> &SessionClient {
        static NONE: SessionClient = SessionClient {
            name: None,
            version: None,
        };
        self.client.get().unwrap_or(&NONE)
    }

    /// Keeps the client an `initialize` names, before it is answered.
    pub(crate) fn initializing(&self, client: SessionClient) {
        let _ = self.client.set(client);
    }

    /// The `initialize` succeeded: the session is open, labelled `client`.
    pub(crate) fn opened(&self, client: &'static str) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.is_none() {
            #[cfg(feature = "metrics")]
            instruments::ACTIVE.with(instruments::Client(client), |g| g.up());
            *open = Some((Instant::now(), client));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let open = self
            .open
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        #[cfg(feature = "metrics")]
        if let Some((start, client)) = open {
            let key = instruments::Client(client);
            instruments::ACTIVE.with(key, |g| g.down());
            instruments::DURATION.with(key, |h| h.record_plain(start.elapsed().as_secs_f64()));
        }
        #[cfg(not(feature = "metrics"))]
        let _ = open;
    }
}

#[cfg(feature = "metrics")]
mod instruments {
    use crate::catalog::{self, label};
    use crate::record::{Family, GaugeHandle, HistogramHandle, LabelKey, Str, family};

    /// The `client_name` label.
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    pub(super) struct Client(pub(super) &'static str);

    impl LabelKey for Client {
        fn labels(&self) -> Vec<metrics::Label> {
            family::labels([(label::CLIENT_NAME, Some(Str(self.0)))])
        }
    }

    pub(super) static ACTIVE: Family<Client, GaugeHandle> =
        Family::new(&catalog::SERVER_SESSIONS_ACTIVE);
    pub(super) static DURATION: Family<Client, HistogramHandle> =
        Family::new(&catalog::SERVER_SESSION_DURATION);
}
