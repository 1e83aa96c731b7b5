//! Errors of configuration and installation.

use std::net::SocketAddr;

/// A bad value in the environment or given to the builder.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("invalid value {value:?} for {variable}: {reason}")]
pub struct ConfigError {
    /// The environment variable, or the builder setting, that holds the bad value.
    pub variable: String,
    /// The bad value as given.
    pub value: String,
    /// What is wrong with it and what is expected.
    pub reason: String,
}

impl ConfigError {
    /// A bad `value` of `variable`, shown as it is.
    pub(crate) fn new(variable: &str, value: &str, reason: impl Into<String>) -> Self {
        Self {
            variable: variable.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }

    /// A bad secret `value` of `variable`, shown by its length only.
    pub(crate) fn secret(variable: &str, value: &str, reason: impl Into<String>) -> Self {
        Self::new(variable, &hidden(value), reason)
    }
}

/// Shows a secret by its length only, for errors and logs.
pub(crate) fn hidden(secret: &str) -> String {
    format!("<hidden, {} characters>", secret.chars().count())
}

/// Everything that can go wrong while building or installing an exporter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting has a bad value.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A histogram bucket list is unusable.
    #[error("invalid histogram buckets {bounds:?}: {reason}")]
    InvalidBuckets {
        /// The list as given.
        bounds: Vec<f64>,
        /// What is wrong with it.
        reason: String,
    },
    /// An objective of a tool declares no part (see `mcp_metrics::Objective::validate`).
    #[error(transparent)]
    Objective(#[from] mcp_metrics::ObjectiveError),
    /// The latency threshold of a tool's objective is not a bucket bound of
    /// `mcp_tool_duration_seconds`, so no bucket counts the calls within it.
    #[error(
        "objective of tool `{tool}`: the latency threshold {threshold} s is not a bucket bound of \
         mcp_tool_duration_seconds, whose bounds are {bounds:?}: choose one of them, or set the \
         buckets with ExporterBuilder::buckets_for"
    )]
    ObjectiveThreshold {
        /// The tool whose objective is refused.
        tool: String,
        /// The threshold in seconds.
        threshold: f64,
        /// The bucket bounds of `mcp_tool_duration_seconds`.
        bounds: Vec<f64>,
    },
    /// Two objectives name the same tool (declared with `#[mcp_tool(objective(...))]` or added
    /// with [`ExporterBuilder::objective`](crate::ExporterBuilder::objective)).
    #[error(
        "tool `{tool}` has two objectives: give each tool one, with #[mcp_tool(objective(...))] or \
         ExporterBuilder::objective"
    )]
    DuplicateObjective {
        /// The tool with two objectives.
        tool: String,
    },
    /// A global `metrics` recorder was installed before this one.
    #[error("a global metrics recorder is already installed")]
    RecorderAlreadySet,
    /// The exporter needs a Tokio runtime and none is running on this thread.
    #[error("this exporter needs a running Tokio runtime: call it from inside one")]
    NoRuntime,
    /// A global `tracing` subscriber was installed before this one.
    #[error("a global tracing subscriber is already installed")]
    SubscriberAlreadySet,
    /// The metrics listener could not bind its address.
    #[error("cannot listen for metrics scrapes on {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
}
