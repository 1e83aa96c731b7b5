//! Start-up settings of the server instrumentation, shared by every [`Instrumented`](super::Instrumented)
//! handler a server creates (one per session or, on 2026-07-28, one per request).

use super::capture::Capture;
use super::context::{ClientNames, Label};
use std::collections::HashSet;
use std::sync::Arc;

/// The environment variable with the client-name allow-list, comma-separated.
pub const CLIENT_NAMES_VAR: &str = "MCP_METRICS_CLIENT_NAMES";
/// The environment variable that turns the audit trail on (`true`, `1`, `on` or `yes`).
pub const AUDIT_VAR: &str = "MCP_METRICS_AUDIT";

/// Settings of [`Instrumented`](super::Instrumented), built once at start-up and cloned cheaply
/// (it is an `Arc`) into each handler.
///
/// ```
/// use mcp_metrics::rmcp::{Capture, Instrumented, Options};
/// # #[derive(Clone)] struct MyServer;
/// # impl rmcp::ServerHandler for MyServer {}
/// let options = Options::from_env()
///     .client_names(["claude-code", "cursor", "vscode"])
///     .audit(true)
///     .capture(Capture::new().max_bytes(2048));
/// let handler = Instrumented::with_options(MyServer, options.clone());
/// # let _ = handler;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Options(Arc<Settings>);

#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub(crate) tool_names: HashSet<String>,
    pub(crate) client_names: ClientNames,
    pub(crate) audit: bool,
    pub(crate) capture: Option<Capture>,
}

impl Options {
    /// No client names allowed (every client is `_OTHER`), no audit, no capture.
    pub fn new() -> Self {
        Options::default()
    }

    /// Options from the environment: the allow-list from `MCP_METRICS_CLIENT_NAMES`
    /// (comma-separated) and the audit trail from `MCP_METRICS_AUDIT`.
    pub fn from_env() -> Self {
        let mut options = Options::new();
        if let Ok(names) = std::env::var(CLIENT_NAMES_VAR) {
            options = options.client_names(names.split(',').map(str::trim));
        }
        if let Ok(audit) = std::env::var(AUDIT_VAR) {
            let on = matches!(
                audit.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "on" | "yes"
            );
            options = options.audit(on);
        }
        options
    }

    fn settings(&mut self) -> &mut Settings {
        Arc::make_mut(&mut self.0)
    }

    pub(crate) fn get(&self) -> &Settings {
        &self.0
    }

    /// Client names to keep as values of the `client_name` label, added to those already set.
    /// Names are normalised (see [`normalize_client_name`](super::normalize_client_name)); any
    /// other client is `_OTHER`, and a client that sends no name is `_unknown`. The list is fixed
    /// at start-up, so a client cannot create series.
    pub fn client_names<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, names: I) -> Self {
        let settings = self.settings();
        let merged: Vec<String> = settings
            .client_names
            .names()
            .map(str::to_owned)
            .chain(names.into_iter().map(|n| n.as_ref().to_owned()))
            .collect();
        settings.client_names = ClientNames::new(merged);
        self
    }

    /// Tool names to use as the `tool` label besides those the wrapped handler's `get_tool` knows
    /// (it knows every tool of a `#[tool_handler]`). Any other requested name is `_unknown`.
    pub fn tool_names<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.settings()
            .tool_names
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Emits one audit event per tool call, with target [`AUDIT_TARGET`](super::AUDIT_TARGET)
    /// (see the [`audit`](super#audit-trail) section).
    pub fn audit(mut self, on: bool) -> Self {
        self.settings().audit = on;
        self
    }

    /// Captures tool-call arguments and results on the request span (and in audit events).
    pub fn capture(mut self, capture: Capture) -> Self {
        self.settings().capture = Some(capture);
        self
    }

    /// The client names allowed as label values, normalised.
    pub fn allowed_client_names(&self) -> impl Iterator<Item = &str> {
        self.0.client_names.names()
    }

    pub(crate) fn client_label(&self, name: Option<&str>) -> Label {
        self.0.client_names.label(name)
    }
}
