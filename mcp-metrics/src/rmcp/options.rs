//! Start-up settings of the server instrumentation, shared by every [`Instrumented`](super::Instrumented)
//! handler a server creates (one per session or, on 2026-07-28, one per request), and the two
//! environment variables they can come from.

use super::capture::Capture;
use super::context::ClientNames;
use std::fmt;
use std::sync::Arc;

/// The environment variable with the client-name allow-list, comma-separated.
const CLIENT_NAMES_VAR: &str = "MCP_METRICS_CLIENT_NAMES";
/// The environment variable that turns the audit trail on or off.
const AUDIT_VAR: &str = "MCP_METRICS_AUDIT";

/// Settings of [`Instrumented`](super::Instrumented), built once at start-up and cloned cheaply
/// (it is an `Arc`) into each handler.
///
/// ```
/// use mcp_metrics::rmcp::{Capture, Instrumented, Options};
/// # #[derive(Clone)] struct MyServer;
/// # impl rmcp::ServerHandler for MyServer {}
/// # fn main() -> Result<(), mcp_metrics::rmcp::EnvError> {
/// let options = Options::from_env()?
///     .client_names(["claude-code", "cursor", "vscode"])
///     .audit(true)
///     .capture(Capture::new().max_bytes(2048));
/// let handler = Instrumented::with_options(MyServer, options.clone());
/// # let _ = handler;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Options(Arc<Settings>);

#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub(crate) client_names: ClientNames,
    pub(crate) audit: bool,
    pub(crate) capture: Option<Capture>,
}

/// A variable of the environment with a value [`Options::from_env`] cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvError {
    variable: &'static str,
    value: String,
    expected: &'static str,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?}: expected {}",
            self.variable, self.value, self.expected
        )
    }
}

impl std::error::Error for EnvError {}

impl EnvError {
    /// The variable.
    pub fn variable(&self) -> &'static str {
        self.variable
    }
}

/// `true` or `false`, in any case, as the OpenTelemetry specification spells booleans and the
/// exporter reads its own.
fn parse_bool(variable: &'static str, value: &str) -> Result<bool, EnvError> {
    let value_lower = value.trim().to_ascii_lowercase();
    match value_lower.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(EnvError {
            variable,
            value: value.to_owned(),
            expected: "true or false",
        }),
    }
}

impl Options {
    /// No client names allowed (every client is `_OTHER`), no audit, no capture.
    pub fn new() -> Self {
        Options::default()
    }

    /// Options from the environment: the allow-list from `MCP_METRICS_CLIENT_NAMES`
    /// (comma-separated) and the audit trail from `MCP_METRICS_AUDIT` (`true` or `false`, in any
    /// case).
    ///
    /// # Errors
    ///
    /// A value that is not a boolean in `MCP_METRICS_AUDIT`, or a variable that is not Unicode,
    /// is an [`EnvError`] naming the variable.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name))
    }

    fn from_lookup(
        lookup: impl Fn(&str) -> Result<String, std::env::VarError>,
    ) -> Result<Self, EnvError> {
        let read = |variable: &'static str| match lookup(variable) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(raw)) => Err(EnvError {
                variable,
                value: raw.to_string_lossy().into_owned(),
                expected: "Unicode text",
            }),
        };
        let mut options = Options::new();
        if let Some(names) = read(CLIENT_NAMES_VAR)? {
            options = options.client_names(names.split(',').map(str::trim));
        }
        if let Some(audit) = read(AUDIT_VAR)? {
            options = options.audit(parse_bool(AUDIT_VAR, &audit)?);
        }
        Ok(options)
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

    /// Tool names to use as the `tool` label from start-up on, besides those the server shows it
    /// knows (tools instrumented with `#[mcp_tool]`, tools in a complete `tools/list` answer,
    /// tools a call reached). For tools without `#[mcp_tool]` in stateless servers, whose
    /// clients may call a tool before any `tools/list` reached this process:
    /// `Options::new().tool_names(Tools::tool_router().list_all().iter().map(|t| t.name.to_string()))`.
    pub fn tool_names<I: IntoIterator<Item = S>, S: AsRef<str>>(self, names: I) -> Self {
        let names: Vec<S> = names.into_iter().collect();
        super::labels::server_tools().learn(names.iter().map(AsRef::as_ref));
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
    pub fn allowed_client_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.client_names.names()
    }

    pub(crate) fn client_label(&self, name: Option<&str>) -> &'static str {
        self.0.client_names.label(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::env::VarError;

    fn from(pairs: &[(&str, &str)]) -> Result<Options, EnvError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Options::from_lookup(move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .ok_or(VarError::NotPresent)
        })
    }

    #[test]
    fn a_bad_audit_value_names_the_variable() {
        let error = from(&[("MCP_METRICS_AUDIT", "ture")]).unwrap_err();
        assert_eq!(error.variable(), "MCP_METRICS_AUDIT");
        assert!(error.to_string().contains("\"ture\""), "{error}");
        for (value, on) in [("true", true), (" TRUE ", true), ("FALSE", false)] {
            let options = from(&[("MCP_METRICS_AUDIT", value)]).unwrap();
            assert_eq!(options.get().audit, on, "{value}");
        }
        for value in ["1", "yes", "off", ""] {
            let error = from(&[("MCP_METRICS_AUDIT", value)]).unwrap_err();
            assert_eq!(error.variable(), "MCP_METRICS_AUDIT", "{value}");
        }
    }

    #[test]
    fn client_names_from_the_environment() {
        let options = from(&[("MCP_METRICS_CLIENT_NAMES", "Claude Code, cursor")]).unwrap();
        assert_eq!(
            options.allowed_client_names().collect::<Vec<_>>(),
            ["claude-code", "cursor"]
        );
        assert!(!from(&[]).unwrap().get().audit);
    }
}
