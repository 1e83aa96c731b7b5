//! Legacy sessions on the server side (revisions before 2026-07-28): the client an `initialize`
//! named, `mcp_server_sessions_active{client_name}` and
//! `mcp_server_session_duration_seconds{client_name, end_reason}` from a successful
//! `initialize` until rmcp drops the session's handler, and (feature `streamable-http`)
//! [`InstrumentedSessions`], the session manager wrapper that exports the sessions rmcp holds in
//! `mcp_server_sessions_held` and tells each handler how its session ended.
//!
//! How a session ended ([`SessionEnd`]) is known where it happens: the client's `DELETE` reaches
//! the session manager (`close_session` while the session runs), an idle session's worker ends
//! its transport (the handler's input ends), and a server shutting down cancels the service,
//! which closes the transport first. [`InstrumentedSessions`] sees all three and hands the
//! session's handler a shared cell in the `initialize` request's extensions; without it (stdio,
//! or another session manager), the end is `transport_closed`.

use super::context::SessionClient;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

/// How a legacy session ended: the `end_reason` label of `mcp_server_session_duration_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionEnd {
    /// The client ended it with an HTTP `DELETE`.
    ClientDelete,
    /// The session manager ended it after its keep-alive passed without a message
    /// (`SessionConfig::keep_alive` of rmcp's `LocalSessionManager`). A session worker that
    /// stops on an internal error ends the same way and is counted here: the transport does
    /// not say why its worker stopped.
    IdleTimeout,
    /// Its transport closed: a stdio connection or child process ended, or a session whose
    /// manager is not wrapped in [`InstrumentedSessions`] ended.
    TransportClosed,
    /// The server cancelled it: `StreamableHttpServerConfig::cancellation_token` was cancelled
    /// (a graceful shutdown), or the running service was cancelled or dropped.
    ServerShutdown,
}

impl SessionEnd {
    /// Every value, in the order they are documented.
    pub const ALL: [SessionEnd; 4] = [
        SessionEnd::ClientDelete,
        SessionEnd::IdleTimeout,
        SessionEnd::TransportClosed,
        SessionEnd::ServerShutdown,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEnd::ClientDelete => "client_delete",
            SessionEnd::IdleTimeout => "idle_timeout",
            SessionEnd::TransportClosed => "transport_closed",
            SessionEnd::ServerShutdown => "server_shutdown",
        }
    }
}

/// The end of one session, shared by the session manager, the session's transport and its
/// handler: the first that learns how it ended sets it.
#[derive(Debug, Default)]
pub(crate) struct EndCell(AtomicU8);

impl EndCell {
    const UNSET: u8 = u8::MAX;

    fn new() -> Self {
        EndCell(AtomicU8::new(Self::UNSET))
    }

    /// Sets the end unless it is set.
    pub(crate) fn set(&self, end: SessionEnd) {
        let _ =
            self.0
                .compare_exchange(Self::UNSET, end as u8, Ordering::AcqRel, Ordering::Acquire);
    }

    /// The end, if it is known.
    pub(crate) fn get(&self) -> Option<SessionEnd> {
        let value = self.0.load(Ordering::Acquire);
        SessionEnd::ALL.into_iter().find(|e| *e as u8 == value)
    }
}

/// The extension [`InstrumentedSessions`] puts into a session's `initialize` request.
#[derive(Clone, Debug)]
pub(crate) struct EndHandle(pub(crate) Arc<EndCell>);

/// The session of one handler; nothing on 2026-07-28, where each request has a handler of its
/// own and there is no session.
#[derive(Default)]
pub(crate) struct Session {
    client: OnceLock<SessionClient>,
    /// Where the session manager writes how the session ended.
    end: OnceLock<Arc<EndCell>>,
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

    /// Keeps the client an `initialize` names, before it is answered, and the cell of
    /// [`InstrumentedSessions`] among the request's `extensions`, if any.
    pub(crate) fn initializing(&self, client: SessionClient, extensions: &rmcp::model::Extensions) {
        let _ = self.client.set(client);
        if let Some(EndHandle(cell)) = extensions.get::<EndHandle>() {
            let _ = self.end.set(cell.clone());
        }
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

    /// How the session ended: what the session manager learned, else its transport closed.
    fn end(&self) -> SessionEnd {
        self.end
            .get()
            .and_then(|cell| cell.get())
            .unwrap_or(SessionEnd::TransportClosed)
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
            instruments::ACTIVE.with(instruments::Client(client), |g| g.down());
            let key = instruments::Ended(client, self.end().as_str());
            instruments::DURATION.with(key, |h| h.record_plain(start.elapsed().as_secs_f64()));
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (open, self.end());
    }
}

#[cfg(feature = "streamable-http")]
pub use manager::{InstrumentedSessions, SessionTransport};

#[cfg(feature = "streamable-http")]
mod manager {
    use super::{EndCell, EndHandle, SessionEnd};
    use rmcp::RoleServer;
    use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
    use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
    use rmcp::transport::Transport;
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::session::{
        EventStore, RestoreOutcome, ServerSseMessage, SessionId, SessionManager,
    };
    use rustc_hash::FxBuildHasher;
    use std::borrow::Cow;
    use std::collections::HashMap;
    use std::future::Future;
    use std::sync::{Arc, Mutex, PoisonError};

    /// A [`SessionManager`] that wraps another (rmcp's [`LocalSessionManager`] by default) and
    /// answers exactly as it does, while it
    ///
    /// - counts the sessions the manager holds in `mcp_server_sessions_held`: created (or
    ///   restored) and not yet closed through the manager. rmcp removes a session from
    ///   [`LocalSessionManager`] only in `close_session`, so this is the size of its map, and
    ///   the memory it keeps. Beside `mcp_server_sessions_active` (the sessions a handler still
    ///   serves) it shows sessions kept after their handler ended;
    /// - tells each session's [`Instrumented`](super::super::Instrumented) handler how the
    ///   session ended ([`SessionEnd`], the `end_reason` of
    ///   `mcp_server_session_duration_seconds`): `client_delete` when the manager is asked to
    ///   close a running session (the client's `DELETE`), `idle_timeout` when the session's
    ///   worker ends its transport first, `server_shutdown` when the service closes the
    ///   transport first (a cancelled `StreamableHttpServerConfig::cancellation_token`).
    ///
    /// ```no_run
    /// use mcp_metrics::rmcp::InstrumentedSessions;
    /// use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    /// use std::time::Duration;
    ///
    /// let mut local = LocalSessionManager::default();
    /// local.session_config.keep_alive = Some(Duration::from_secs(600));
    /// let sessions = std::sync::Arc::new(InstrumentedSessions::new(local));
    /// // StreamableHttpService::new(factory, sessions, config)
    /// # let _ = sessions;
    /// ```
    #[derive(Debug)]
    pub struct InstrumentedSessions<M = LocalSessionManager> {
        inner: M,
        /// The sessions held, and where each one's end is written.
        held: Mutex<HashMap<SessionId, Arc<EndCell>, FxBuildHasher>>,
    }

    impl Default for InstrumentedSessions<LocalSessionManager> {
        fn default() -> Self {
            Self::new(LocalSessionManager::default())
        }
    }

    impl<M> InstrumentedSessions<M> {
        /// Wraps `inner`; `mcp_server_sessions_held` is 0 from now on, until a session opens.
        pub fn new(inner: M) -> Self {
            #[cfg(feature = "metrics")]
            instruments::set_held(0);
            InstrumentedSessions {
                inner,
                held: Mutex::new(HashMap::with_hasher(FxBuildHasher)),
            }
        }

        /// The wrapped session manager.
        pub fn inner(&self) -> &M {
            &self.inner
        }

        /// Sessions the manager holds now: the value of `mcp_server_sessions_held`.
        pub fn held(&self) -> usize {
            self.lock().len()
        }

        fn lock(
            &self,
        ) -> std::sync::MutexGuard<'_, HashMap<SessionId, Arc<EndCell>, FxBuildHasher>> {
            self.held.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// A session the manager holds from now on; its transport, wrapped.
        fn track<T>(&self, id: &SessionId, transport: T) -> SessionTransport<T> {
            let end = Arc::new(EndCell::new());
            let mut held = self.lock();
            held.insert(id.clone(), end.clone());
            #[cfg(feature = "metrics")]
            instruments::set_held(held.len());
            SessionTransport {
                inner: transport,
                end,
            }
        }

        /// A session the manager no longer holds; a running one was closed by request.
        fn untrack(&self, id: &SessionId) {
            let mut held = self.lock();
            if let Some(end) = held.remove(id) {
                end.set(SessionEnd::ClientDelete);
            }
            #[cfg(feature = "metrics")]
            instruments::set_held(held.len());
        }
    }

    impl<M: SessionManager> SessionManager for InstrumentedSessions<M> {
        type Error = M::Error;
        type Transport = SessionTransport<M::Transport>;

        async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
            let (id, transport) = self.inner.create_session().await?;
            let transport = self.track(&id, transport);
            Ok((id, transport))
        }

        async fn initialize_session(
            &self,
            id: &SessionId,
            mut message: ClientJsonRpcMessage,
        ) -> Result<ServerJsonRpcMessage, Self::Error> {
            if let Some(end) = self.lock().get(id) {
                message.insert_extension(EndHandle(end.clone()));
            }
            self.inner.initialize_session(id, message).await
        }

        fn has_session(
            &self,
            id: &SessionId,
        ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
            self.inner.has_session(id)
        }

        async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
            // Marked before the manager stops the worker, which then ends the transport.
            self.untrack(id);
            self.inner.close_session(id).await
        }

        fn create_stream(
            &self,
            id: &SessionId,
            message: ClientJsonRpcMessage,
        ) -> impl Future<
            Output = Result<
                impl futures_core::Stream<Item = ServerSseMessage> + Send + Sync + 'static,
                Self::Error,
            >,
        > + Send {
            self.inner.create_stream(id, message)
        }

        fn accept_message(
            &self,
            id: &SessionId,
            message: ClientJsonRpcMessage,
        ) -> impl Future<Output = Result<(), Self::Error>> + Send {
            self.inner.accept_message(id, message)
        }

        fn create_standalone_stream(
            &self,
            id: &SessionId,
        ) -> impl Future<
            Output = Result<
                impl futures_core::Stream<Item = ServerSseMessage> + Send + Sync + 'static,
                Self::Error,
            >,
        > + Send {
            self.inner.create_standalone_stream(id)
        }

        fn resume(
            &self,
            id: &SessionId,
            last_event_id: String,
        ) -> impl Future<
            Output = Result<
                impl futures_core::Stream<Item = ServerSseMessage> + Send + Sync + 'static,
                Self::Error,
            >,
        > + Send {
            self.inner.resume(id, last_event_id)
        }

        async fn restore_session(
            &self,
            id: SessionId,
        ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
            Ok(match self.inner.restore_session(id.clone()).await? {
                RestoreOutcome::Restored(transport) => {
                    RestoreOutcome::Restored(self.track(&id, transport))
                }
                RestoreOutcome::AlreadyPresent => RestoreOutcome::AlreadyPresent,
                // `RestoreOutcome` may grow; a variant this crate does not know is not a restore.
                _ => RestoreOutcome::NotSupported,
            })
        }

        fn event_store(&self) -> Option<Arc<dyn EventStore>> {
            self.inner.event_store()
        }
    }

    /// The transport of one session of [`InstrumentedSessions`]: the manager's, unchanged. It
    /// notes which side ended first: the input ending is the session's worker stopping (idle
    /// timeout, or after a `DELETE`), a close before that is the service cancelled.
    #[derive(Debug)]
    pub struct SessionTransport<T> {
        inner: T,
        end: Arc<EndCell>,
    }

    impl<T: Transport<RoleServer>> Transport<RoleServer> for SessionTransport<T> {
        type Error = T::Error;

        fn name() -> Cow<'static, str> {
            T::name()
        }

        fn send(
            &mut self,
            item: TxJsonRpcMessage<RoleServer>,
        ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
            self.inner.send(item)
        }

        async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
            let message = self.inner.receive().await;
            if message.is_none() {
                self.end.set(SessionEnd::IdleTimeout);
            }
            message
        }

        async fn close(&mut self) -> Result<(), Self::Error> {
            self.end.set(SessionEnd::ServerShutdown);
            self.inner.close().await
        }
    }

    #[cfg(feature = "metrics")]
    mod instruments {
        use crate::catalog;
        use crate::record::{Family, GaugeHandle};

        static HELD: Family<(), GaugeHandle> = Family::new(&catalog::SERVER_SESSIONS_HELD);

        pub(super) fn set_held(n: usize) {
            HELD.with((), |g| g.set(n as f64));
        }
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

    /// The `client_name` and `end_reason` labels.
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    pub(super) struct Ended(pub(super) &'static str, pub(super) &'static str);

    impl LabelKey for Ended {
        fn labels(&self) -> Vec<metrics::Label> {
            family::labels([
                (label::CLIENT_NAME, Some(Str(self.0))),
                (label::END_REASON, Some(Str(self.1))),
            ])
        }
    }

    pub(super) static ACTIVE: Family<Client, GaugeHandle> =
        Family::new(&catalog::SERVER_SESSIONS_ACTIVE);
    pub(super) static DURATION: Family<Ended, HistogramHandle> =
        Family::new(&catalog::SERVER_SESSION_DURATION);
}

#[cfg(test)]
mod tests {
    use super::{EndCell, SessionEnd};

    #[test]
    fn the_first_end_learned_stays() {
        let cell = EndCell::new();
        assert_eq!(cell.get(), None);
        cell.set(SessionEnd::ClientDelete);
        cell.set(SessionEnd::IdleTimeout);
        assert_eq!(cell.get(), Some(SessionEnd::ClientDelete));
        for end in SessionEnd::ALL {
            let cell = EndCell::new();
            cell.set(end);
            assert_eq!(cell.get(), Some(end));
        }
    }

    /// `InstrumentedSessions` forwards every method of rmcp's `SessionManager`: a method rmcp
    /// adds with a default body would otherwise answer with that default behind the wrapped
    /// manager's back.
    #[cfg(feature = "streamable-http")]
    #[test]
    fn every_session_manager_method_is_forwarded() {
        use super::super::tests::{declared_methods, rmcp_source};
        let source = rmcp_source("src/transport/streamable_http_server/session.rs");
        let declared = declared_methods(&source, "pub trait SessionManager");
        let own = include_str!("session.rs");
        let start = own
            .find("impl<M: SessionManager> SessionManager for InstrumentedSessions<M>")
            .expect("the impl");
        let body = &own[start..];
        let end = body.find("\n    }\n\n").expect("the end of the impl");
        let mut forwarded: Vec<&str> = body[..end]
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                l.strip_prefix("fn ")
                    .or_else(|| l.strip_prefix("async fn "))
            })
            .filter_map(|l| l.split(['(', '<']).next())
            .collect();
        forwarded.sort_unstable();
        assert_eq!(forwarded, declared);
    }
}
