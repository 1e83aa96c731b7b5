//! Opt-in capture of tool-call arguments and results as JSON on the request span
//! (`gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`), of prompt arguments
//! (`gen_ai.prompt.variable.<name>`), and in audit events: off unless configured, passed through
//! the user's redaction function, capped in size.

use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// The default cap of a captured value, in bytes.
pub const DEFAULT_CAPTURE_BYTES: usize = 4096;

/// The most prompt variables recorded on one span.
pub(crate) const MAX_PROMPT_VARIABLES: usize = 64;

/// A redaction function.
type Redact = Arc<dyn Fn(&mut Value) + Send + Sync>;

/// What marks a captured value that was cut at the cap.
const ELLIPSIS: &str = "…";

/// How tool-call arguments and results are captured (see [`Options::capture`](super::Options::capture)).
///
/// Tool arguments and results carry API keys, file contents and personal data, so nothing is
/// captured unless a `Capture` is configured. The redaction function sees each value before it is
/// serialised and can remove or mask anything; the serialised JSON is then cut to
/// [`max_bytes`](Capture::max_bytes) (on a character boundary, ending with `…`).
///
/// ```
/// use mcp_metrics::rmcp::Capture;
/// let capture = Capture::new().max_bytes(1024).redact(|value| {
///     if let Some(args) = value.as_object_mut() {
///         if args.contains_key("api_key") {
///             args.insert("api_key".into(), "[redacted]".into());
///         }
///     }
/// });
/// # let _ = capture;
/// ```
#[derive(Clone)]
pub struct Capture {
    max_bytes: usize,
    redact: Option<Redact>,
    arguments: bool,
    result: bool,
}

impl Default for Capture {
    fn default() -> Self {
        Capture {
            max_bytes: DEFAULT_CAPTURE_BYTES,
            redact: None,
            arguments: true,
            result: true,
        }
    }
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture")
            .field("max_bytes", &self.max_bytes)
            .field("redact", &self.redact.is_some())
            .field("arguments", &self.arguments)
            .field("result", &self.result)
            .finish()
    }
}

impl Capture {
    /// Arguments and results, capped at [`DEFAULT_CAPTURE_BYTES`], without redaction.
    pub fn new() -> Self {
        Capture::default()
    }

    /// The largest captured value in bytes (at least 16).
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes.max(16);
        self
    }

    /// The redaction function, applied to the arguments object and to the result object before
    /// they are serialised.
    pub fn redact(mut self, redact: impl Fn(&mut Value) + Send + Sync + 'static) -> Self {
        self.redact = Some(Arc::new(redact));
        self
    }

    /// Whether to capture the arguments (`gen_ai.tool.call.arguments`; default yes).
    pub fn arguments(mut self, on: bool) -> Self {
        self.arguments = on;
        self
    }

    /// Whether to capture the result of successful calls (`gen_ai.tool.call.result`; default
    /// yes).
    pub fn result(mut self, on: bool) -> Self {
        self.result = on;
        self
    }

    pub(crate) fn wants_arguments(&self) -> bool {
        self.arguments
    }

    #[cfg_attr(not(feature = "trace"), allow(dead_code))]
    pub(crate) fn wants_result(&self) -> bool {
        self.result
    }

    /// Redacts, serialises and caps a value.
    pub(crate) fn render(&self, mut value: Value) -> String {
        if let Some(redact) = &self.redact {
            redact(&mut value);
        }
        self.capped(value.to_string())
    }

    /// Records the arguments of a `prompts/get` on its span, one `gen_ai.prompt.variable.<name>`
    /// each (at most [`MAX_PROMPT_VARIABLES`]): the arguments object goes through the redaction
    /// function first, then each name and value is capped; a string value is recorded as is,
    /// any other as JSON.
    pub(crate) fn record_prompt_variables(
        &self,
        span: &super::span::RequestSpan,
        arguments: &serde_json::Map<String, Value>,
    ) {
        if !self.arguments || !span.is_recording() {
            return;
        }
        let mut value = Value::Object(arguments.clone());
        if let Some(redact) = &self.redact {
            redact(&mut value);
        }
        let Value::Object(arguments) = value else {
            return;
        };
        for (name, value) in arguments.into_iter().take(MAX_PROMPT_VARIABLES) {
            let text = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            let key = format!("gen_ai.prompt.variable.{}", self.cap(&name));
            span.record_text(key, self.capped(text));
        }
    }

    /// `text` cut to the cap, ending with the ellipsis when it was cut.
    fn capped(&self, mut text: String) -> String {
        if text.len() > self.max_bytes {
            let keep = self.cap(&text).len();
            text.truncate(keep);
            text.push_str(ELLIPSIS);
        }
        text
    }

    /// `text` cut to fit the cap with the ellipsis of a cut value, on a character boundary.
    pub(crate) fn cap<'a>(&self, text: &'a str) -> &'a str {
        if text.len() <= self.max_bytes {
            return text;
        }
        super::context::cap(text, self.max_bytes - ELLIPSIS.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_then_caps() {
        let capture = Capture::new().max_bytes(40).redact(|v| {
            if let Some(o) = v.as_object_mut() {
                o.remove("secret");
            }
        });
        assert_eq!(
            capture.render(json!({"secret": "hunter2", "a": 1})),
            r#"{"a":1}"#
        );
        let long = capture.render(json!({"text": "é".repeat(100)}));
        assert!(long.len() <= 40, "{long}");
        assert!(long.ends_with('…'));
        assert!(long.starts_with(r#"{"text":"éé"#));
    }
}
