//! Configuration: everything the exporter and the tracing pipeline take from the environment or
//! from code, checked as it is applied, so that a bad value is a [`ConfigError`] naming its
//! variable at start-up. Nothing here opens a connection or starts a task.
//!
//! [`Env`] reads a builder's variables ([`vars`]), each once; [`parse`] has one parser per kind
//! of value; [`metrics`] holds what the metrics exporter needs (exporter kind, listener, scrape
//! auth, push, stdout, series limit), [`otlp`] the endpoint, protocol and connection of an OTLP
//! signal (shared by metrics, traces and logs), [`outbound`] the connection settings themselves
//! (TLS files, headers, timeout, compression), [`resource`] the OpenTelemetry resource of every
//! signal, [`traces`] what the tracing pipeline needs, [`export`] how each of its signals leaves
//! (exporter, OTLP destination, batch processor) and [`logs`] where its log records go.

#[cfg(feature = "telemetry")]
pub(crate) mod export;
#[cfg(feature = "telemetry")]
pub(crate) mod logs;
pub(crate) mod metrics;
#[cfg(any(feature = "otlp", feature = "telemetry"))]
pub(crate) mod otlp;
#[cfg(feature = "_client")]
pub(crate) mod outbound;
pub(crate) mod parse;
#[cfg(feature = "_client")]
pub(crate) mod resource;
#[cfg(feature = "telemetry")]
pub(crate) mod traces;
pub(crate) mod vars;

use crate::error::ConfigError;

/// A variable lookup, such as `|name| std::env::var(name).ok()`.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The variables one builder reads, each looked up exactly once and trimmed; an empty value
/// counts as unset.
#[derive(Debug)]
pub(crate) struct Env {
    values: Vec<(&'static str, Option<String>)>,
}

impl Env {
    /// Looks up each of `names` once.
    pub(crate) fn read(lookup: Lookup<'_>, names: &[&'static str]) -> Self {
        let values = names
            .iter()
            .map(|&name| {
                let value = lookup(name)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty());
                (name, value)
            })
            .collect();
        Self { values }
    }

    /// The value of `name`, one of the names read.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        let found = self.values.iter().find(|(n, _)| *n == name);
        debug_assert!(found.is_some(), "{name} is not among the variables read");
        found.and_then(|(_, v)| v.as_deref())
    }

    /// `name` with its value, when it is set.
    #[cfg(feature = "_client")]
    pub(crate) fn var(&self, name: &'static str) -> Option<(&'static str, &str)> {
        self.get(name).map(|v| (name, v))
    }

    /// The signal-specific variable when it is set, else the generic one, with the name of the
    /// one used (the OpenTelemetry rule for `…_METRICS_…` and `…_TRACES_…` variables).
    #[cfg(any(feature = "otlp", feature = "telemetry"))]
    pub(crate) fn pick(
        &self,
        specific: &'static str,
        generic: &'static str,
    ) -> Option<(&'static str, &str)> {
        self.var(specific).or_else(|| self.var(generic))
    }

    /// Parses `name` with `parse` when it is set.
    pub(crate) fn parsed<T>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str, &str) -> Result<T, ConfigError>,
    ) -> Result<Option<T>, ConfigError> {
        self.get(name).map(|v| parse(name, v)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn each_variable_is_looked_up_once_and_blank_is_unset() {
        let asked = RefCell::new(Vec::new());
        let lookup = |name: &str| {
            asked.borrow_mut().push(name.to_owned());
            match name {
                "A" => Some(" a ".to_owned()),
                "B" => Some("   ".to_owned()),
                _ => None,
            }
        };
        let env = Env::read(&lookup, &["A", "B", "C"]);
        assert_eq!(*asked.borrow(), ["A", "B", "C"]);
        assert_eq!(
            (env.get("A"), env.get("B"), env.get("C")),
            (Some("a"), None, None)
        );
        assert_eq!(env.get("A"), Some("a"), "a second get asks nothing");
        assert_eq!(asked.borrow().len(), 3);
    }
}
