//! One MCP request or notification on either side: its labels, its span and its timer, finished
//! once with what the peer received. `Operation::finish` is the one place that sets the span's
//! status and error attributes, takes the exemplar and records the duration histogram (and, on
//! the server, the retry counter); the server wrapper and the client transport both use it.

use crate::Outcome;
use std::time::Instant;

/// Which side of the conversation observes the operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// The side answering: a SERVER span and `mcp_server_operation_duration_seconds`.
    Server,
    /// The side asking: a CLIENT span and `mcp_client_operation_duration_seconds`.
    Client,
}

/// What a request is about, as label values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Target {
    #[default]
    None,
    /// The `tool` label: a known tool name or `_unknown`.
    Tool(&'static str),
    /// The `prompt` label: a known prompt name or `_unknown`.
    Prompt(&'static str),
}

impl Target {
    /// The known name, if the label is one (not `_unknown`).
    pub(crate) fn known(self) -> Option<&'static str> {
        match self {
            Target::Tool(n) | Target::Prompt(n) if n != crate::names::UNKNOWN => Some(n),
            _ => None,
        }
    }
}

/// A JSON-RPC error answer: its code and message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ErrorAnswer<'a> {
    pub(crate) code: i32,
    pub(crate) message: &'a str,
}

/// How a request ended, as the peer received it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Answer<'a> {
    pub(crate) outcome: Outcome,
    pub(crate) error: Option<ErrorAnswer<'a>>,
}

impl Answer<'_> {
    /// An answer that is not a JSON-RPC error.
    pub(crate) const fn of(outcome: Outcome) -> Self {
        Answer {
            outcome,
            error: None,
        }
    }
}

impl<'a> Answer<'a> {
    /// A JSON-RPC error answer.
    pub(crate) fn error(code: i32, message: &'a str) -> Self {
        Answer {
            outcome: Outcome::Error {
                kind: crate::jsonrpc_code_kind(code),
                fault: crate::jsonrpc_code_fault(code),
            },
            error: Some(ErrorAnswer { code, message }),
        }
    }

    /// Whether the conventions count this answer as an error on `side`: every failure on the
    /// client; on the server, not the codes that say the caller sent a request the server could
    /// not serve.
    pub(crate) fn is_error(&self, side: Side) -> bool {
        match (self.outcome.error_type(), self.error, side) {
            (None, _, _) => false,
            (Some(_), Some(e), Side::Server) => {
                crate::catalog::is_server_side_error(i64::from(e.code))
            }
            (Some(_), _, _) => true,
        }
    }
}

/// One request or notification on its way.
pub(crate) struct Operation {
    side: Side,
    method: &'static str,
    target: Target,
    /// The `client_name` label (server side only).
    client: Option<&'static str>,
    /// The `protocol_version` label: a version rmcp knows, else `_OTHER`.
    protocol_version: Option<&'static str>,
    /// The `network_transport` label: `tcp` or `pipe`.
    transport: Option<&'static str>,
    /// The `risk` label of a tool call (server side only).
    risk: Option<crate::Risk>,
    /// Whether it retries a multi-round-trip call (server side only).
    retry: bool,
    start: Instant,
    pub(crate) span: super::span::RequestSpan,
}

impl Operation {
    /// Starts timing `method` about `target` now.
    pub(crate) fn start(
        side: Side,
        method: &'static str,
        target: Target,
        span: super::span::RequestSpan,
    ) -> Self {
        Operation {
            side,
            method,
            target,
            client: None,
            protocol_version: None,
            transport: None,
            risk: None,
            retry: false,
            start: Instant::now(),
            span,
        }
    }

    /// The `client_name` label of a server-side operation.
    pub(crate) fn with_client(mut self, client: &'static str) -> Self {
        self.client = Some(client);
        self
    }

    /// The `protocol_version` and `network_transport` labels, where known.
    pub(crate) fn with_network(
        mut self,
        protocol_version: Option<&'static str>,
        transport: Option<&'static str>,
    ) -> Self {
        self.protocol_version = protocol_version;
        self.transport = transport;
        self
    }

    /// Sets the `risk` label of a server-side tool call.
    pub(crate) fn set_risk(&mut self, risk: crate::Risk) {
        self.risk = Some(risk);
    }

    /// Marks a retry of a multi-round-trip call: counted in `mcp_server_input_retries_total`.
    pub(crate) fn set_retry(&mut self, retry: bool) {
        self.retry = retry;
        if retry {
            self.span.record_retry();
        }
    }

    /// The method name.
    pub(crate) fn method(&self) -> &'static str {
        self.method
    }

    /// The target.
    pub(crate) fn target(&self) -> Target {
        self.target
    }

    /// Replaces the target's label, once the answer shows the name is known.
    pub(crate) fn set_target(&mut self, target: Target, name: &str) {
        self.target = target;
        self.span.record_target(target, name);
    }

    /// Ends the operation with `answer`: the span's status and attributes, the duration
    /// histogram with an exemplar of a sampled span, and on the server the retry counter.
    /// Returns the duration.
    pub(crate) fn finish(self, answer: Answer<'_>) -> std::time::Duration {
        let elapsed = self.start.elapsed();
        self.span.finish(self.side, &answer);
        #[cfg(feature = "metrics")]
        instruments::record(&self, answer.outcome, elapsed);
        elapsed
    }
}

#[cfg(feature = "metrics")]
mod instruments {
    use super::{Operation, Side, Target};
    use crate::Outcome;
    use crate::catalog::{self, label};
    use crate::record::{CounterHandle, Family, HistogramHandle, LabelKey, Str, family};
    use metrics::Label;

    /// The labels of an operation's duration (and, without `error_type`, `fault`, the client and
    /// the network, of its retry counter).
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    pub(super) struct Key {
        method: Str,
        tool: Option<Str>,
        prompt: Option<Str>,
        outcome: Str,
        error_type: Option<Str>,
        fault: Option<Str>,
        client: Option<Str>,
        protocol_version: Option<Str>,
        transport: Option<Str>,
        risk: Option<Str>,
    }

    impl LabelKey for Key {
        fn labels(&self) -> Vec<Label> {
            family::labels([
                (label::METHOD, Some(self.method)),
                (label::TOOL, self.tool),
                (label::RISK, self.risk),
                (label::PROMPT, self.prompt),
                (label::OUTCOME, Some(self.outcome)),
                (label::ERROR_TYPE, self.error_type),
                (label::FAULT, self.fault),
                (label::CLIENT_NAME, self.client),
                (label::PROTOCOL_VERSION, self.protocol_version),
                (label::NETWORK_TRANSPORT, self.transport),
            ])
        }
    }

    static SERVER: Family<Key, HistogramHandle> = Family::new(&catalog::SERVER_OPERATION_DURATION);
    static CLIENT: Family<Key, HistogramHandle> = Family::new(&catalog::CLIENT_OPERATION_DURATION);
    static RETRIES: Family<Key, CounterHandle> = Family::new(&catalog::SERVER_INPUT_RETRIES);

    /// Monotonic nanoseconds, for exemplar pacing.
    fn now_ns() -> u64 {
        static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        BASE.get_or_init(std::time::Instant::now)
            .elapsed()
            .as_nanos() as u64
            + 1
    }

    pub(super) fn record(op: &Operation, outcome: Outcome, elapsed: std::time::Duration) {
        let (tool, prompt) = match op.target {
            Target::None => (None, None),
            Target::Tool(t) => (Some(Str(t)), None),
            Target::Prompt(p) => (None, Some(Str(p))),
        };
        let mut key = Key {
            method: Str(op.method),
            tool,
            prompt,
            outcome: Str(outcome.as_str()),
            error_type: None,
            fault: None,
            client: None,
            protocol_version: None,
            transport: None,
            risk: None,
        };
        if op.retry {
            RETRIES.with(key, |c| c.add(1));
        }
        key.error_type = outcome.error_type().map(Str);
        key.protocol_version = op.protocol_version.map(Str);
        key.transport = op.transport.map(Str);
        let family = match op.side {
            Side::Server => {
                key.fault = outcome.fault().map(|f| Str(f.as_str()));
                key.client = op.client.map(Str);
                key.risk = op.risk.map(|r| Str(r.as_str()));
                &SERVER
            }
            Side::Client => &CLIENT,
        };
        let span = &op.span;
        family.with(key, |h| {
            h.record(elapsed.as_secs_f64(), now_ns(), || span.exemplar());
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_codes_are_not_errors_on_the_server() {
        for code in [-32700, -32600, -32601, -32602, -32002] {
            let answer = Answer::error(code, "no");
            assert!(!answer.is_error(Side::Server), "{code}");
            assert!(answer.is_error(Side::Client), "{code}");
        }
        for code in [-32603, -32000, -32099, -32021, 42] {
            assert!(Answer::error(code, "no").is_error(Side::Server), "{code}");
        }
        assert!(Answer::of(Outcome::ToolError).is_error(Side::Server));
        assert!(!Answer::of(Outcome::InputRequired).is_error(Side::Client));
    }
}
