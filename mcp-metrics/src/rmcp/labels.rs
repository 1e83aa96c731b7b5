//! Label values of the request layer, each decided once: method names, protocol versions, tool
//! and prompt names, client names. Every value is a `&'static str` from a bounded set, so a
//! request's labels are found without allocating and no client can create a series.
//!
//! Tool and prompt names become labels once the server has shown it knows them: instrumented
//! with `#[mcp_tool]` (gathered by the linker at start-up), given on an allow-list, listed in a
//! complete `tools/list` or `prompts/list` answer, or answered without a JSON-RPC error. Any other
//! name is `_unknown`. The names are kept once for the whole process, however many handlers the
//! server builds (one per request on 2026-07-28), up to [`MAX_NAMES`] per kind.
//!
//! A tool's risk class ([`Risk`]) is kept beside its name, derived once from the first
//! definition seen: a `tools/list` answer, or the handler's `get_tool` asked once for a name
//! known without one. A request finds the label and the risk in the one look-up of its name.

use crate::Risk;
use crate::names::{OTHER, UNKNOWN};
use rmcp::model::ProtocolVersion;
use rustc_hash::FxBuildHasher;
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

/// The most names kept per kind (tools, prompts); further names are `_unknown`.
pub const MAX_NAMES: usize = 1000;

/// Method names of requests and notifications, for the `method` label; anything else is
/// `_OTHER`.
pub(crate) const METHODS: &[&str] = &[
    "ping",
    "initialize",
    "server/discover",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "subscriptions/listen",
    "resources/subscribe",
    "resources/unsubscribe",
    "tools/call",
    "tools/list",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "skills/list",
    "skills/get",
    "resources/directory/read",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/initialized",
    "notifications/roots/list_changed",
    "notifications/message",
    "notifications/resources/updated",
    "notifications/resources/list_changed",
    "notifications/tools/list_changed",
    "notifications/prompts/list_changed",
    "notifications/elicitation/complete",
    "notifications/subscriptions/acknowledged",
    "elicitation/create",
    "sampling/createMessage",
    "roots/list",
];

/// The `method` label of a method name: itself if it is a method of the specification, else
/// `_OTHER`.
pub(crate) fn method(name: &str) -> &'static str {
    METHODS
        .iter()
        .copied()
        .find(|m| *m == name)
        .unwrap_or(OTHER)
}

/// The protocol version as a label: a version rmcp knows, else `_OTHER`; `None` when unknown.
pub(crate) fn protocol_version(version: &str) -> &'static str {
    ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .zip(KNOWN_VERSION_LABELS)
        .find(|(v, _)| v.as_str() == version)
        .map_or(OTHER, |(_, label)| label)
}

/// The text of [`ProtocolVersion::KNOWN_VERSIONS`], as `&'static str`.
const KNOWN_VERSION_LABELS: &[&str] = &[
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

/// A name the MCP naming rules allow (1 to 128 of `A-Z a-z 0-9 _ - . /`).
pub(crate) fn is_label_safe(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
}

/// Names that may become label values, each kept as a `&'static str`.
#[derive(Default)]
pub(crate) struct Names {
    known: RwLock<HashMap<Box<str>, Known, FxBuildHasher>>,
}

/// What is kept of a known name: its label and, for a tool, what its definition says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Known {
    pub(crate) label: &'static str,
    pub(crate) definition: Definition,
}

/// What the definition of a known tool says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Definition {
    /// Not seen yet: the handler has not been asked.
    Unseen,
    /// Seen (or asked for, without an answer: [`Risk::Unknown`]).
    Seen(Risk),
}

impl Definition {
    /// The risk class it gives: `_unknown` until seen.
    pub(crate) fn risk(self) -> Risk {
        match self {
            Definition::Unseen => Risk::Unknown,
            Definition::Seen(risk) => risk,
        }
    }
}

impl Names {
    /// No names.
    pub(crate) const fn new() -> Self {
        Names {
            known: RwLock::new(HashMap::with_hasher(FxBuildHasher)),
        }
    }

    /// The label of `name`, if it is known.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<&'static str> {
        self.known(name).map(|k| k.label)
    }

    /// What is kept of `name`, if it is known.
    #[inline]
    pub(crate) fn known(&self, name: &str) -> Option<Known> {
        self.known
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .copied()
    }

    /// The label of `name`: itself if known, else `_unknown`.
    #[inline]
    pub(crate) fn label(&self, name: &str) -> &'static str {
        self.get(name).unwrap_or(UNKNOWN)
    }

    /// Adds `names` (those the naming rules allow, up to [`MAX_NAMES`] in all).
    pub(crate) fn learn<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        self.learn_defined(names.into_iter().map(|n| (n, None)));
    }

    /// Adds names as [`Names::learn`] does, each with the risk class of its definition when
    /// one is given: kept for a name whose definition is not seen yet, so that it is derived
    /// once.
    pub(crate) fn learn_defined<'a>(
        &self,
        names: impl IntoIterator<Item = (&'a str, Option<Risk>)>,
    ) {
        let mut names = names.into_iter().peekable();
        if names.peek().is_none() {
            return;
        }
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        for (name, risk) in names {
            if let Some(entry) = known.get_mut(name) {
                if let (Some(risk), Definition::Unseen | Definition::Seen(Risk::Unknown)) =
                    (risk, entry.definition)
                {
                    entry.definition = Definition::Seen(risk);
                }
                continue;
            }
            if known.len() >= MAX_NAMES {
                continue;
            }
            if is_label_safe(name) {
                let kept = crate::intern::intern(name);
                if kept != OTHER {
                    let definition = risk.map_or(Definition::Unseen, Definition::Seen);
                    known.insert(
                        name.into(),
                        Known {
                            label: kept,
                            definition,
                        },
                    );
                }
            }
        }
    }

    /// Records what the handler said of the definition of the known name `name` (`None`: it
    /// has none to give) and returns its risk class. Asked once per name.
    pub(crate) fn define(&self, name: &str, risk: Option<Risk>) -> Risk {
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        match known.get_mut(name) {
            Some(entry) => {
                if entry.definition == Definition::Unseen {
                    entry.definition = Definition::Seen(risk.unwrap_or(Risk::Unknown));
                }
                entry.definition.risk()
            }
            None => Risk::Unknown,
        }
    }

    /// Whether another name can still be learned.
    pub(crate) fn has_room(&self) -> bool {
        self.known
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
            < MAX_NAMES
    }

    /// Learns `name` and returns its label: for a name the server has just answered without an
    /// error.
    pub(crate) fn learn_one(&self, name: &str) -> &'static str {
        if let Some(label) = self.get(name) {
            return label;
        }
        self.learn([name]);
        self.label(name)
    }

    /// How many names are known.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.known.read().unwrap().len()
    }
}

/// The tools of this process's servers: those instrumented with `#[mcp_tool]` from start-up
/// on, and those learned since.
pub(crate) fn server_tools() -> &'static Names {
    static TOOLS: std::sync::OnceLock<Names> = std::sync::OnceLock::new();
    TOOLS.get_or_init(|| {
        let names = Names::new();
        #[cfg(feature = "metrics")]
        names.learn(crate::__private::TOOL_NAMES.iter().copied());
        names
    })
}

/// The prompts of this process's servers.
pub(crate) fn server_prompts() -> &'static Names {
    static PROMPTS: Names = Names::new();
    &PROMPTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_names_become_labels() {
        let names = Names::new();
        names.learn(["listed", "bad name\"", ""]);
        assert_eq!(names.label("listed"), "listed");
        assert_eq!(names.label("bad name\""), UNKNOWN);
        assert_eq!(names.label("other"), UNKNOWN);
        assert_eq!(names.learn_one("answered"), "answered");
        let many: Vec<String> = (0..2 * MAX_NAMES).map(|i| format!("t{i}")).collect();
        names.learn(many.iter().map(String::as_str));
        assert_eq!(names.len(), MAX_NAMES);
        assert_eq!(names.learn_one("late"), UNKNOWN);
    }

    #[test]
    fn a_tool_risk_is_derived_once_from_the_first_definition() {
        let names = Names::new();
        let risk = |n: &str| names.known(n).map(|k| k.definition);
        names.learn(["instrumented"]);
        assert_eq!(risk("instrumented"), Some(Definition::Unseen));
        names.learn_defined([
            ("listed", Some(Risk::ReadOnly)),
            ("instrumented", Some(Risk::Additive)),
        ]);
        assert_eq!(risk("listed"), Some(Definition::Seen(Risk::ReadOnly)));
        assert_eq!(risk("instrumented"), Some(Definition::Seen(Risk::Additive)));
        // Kept: a later definition does not relabel the tool's series.
        names.learn_defined([("listed", Some(Risk::Destructive))]);
        assert_eq!(risk("listed"), Some(Definition::Seen(Risk::ReadOnly)));
        // A handler with no definition to give is asked once; a later list still defines it.
        names.learn(["opaque"]);
        assert_eq!(names.define("opaque", None), Risk::Unknown);
        assert_eq!(names.define("opaque", Some(Risk::ReadOnly)), Risk::Unknown);
        names.learn_defined([("opaque", Some(Risk::Destructive))]);
        assert_eq!(risk("opaque"), Some(Definition::Seen(Risk::Destructive)));
        assert_eq!(
            names.define("never-learned", Some(Risk::ReadOnly)),
            Risk::Unknown
        );
        assert_eq!(risk("never-learned"), None);
    }

    #[test]
    fn methods_and_versions_are_bounded() {
        assert_eq!(method("tools/call"), "tools/call");
        assert_eq!(method("tools/evil"), OTHER);
        assert_eq!(protocol_version("2026-07-28"), "2026-07-28");
        assert_eq!(protocol_version("2099-01-01"), OTHER);
        assert_eq!(
            KNOWN_VERSION_LABELS.len(),
            ProtocolVersion::KNOWN_VERSIONS.len(),
            "rmcp knows a version this table does not"
        );
        for (v, label) in ProtocolVersion::KNOWN_VERSIONS
            .iter()
            .zip(KNOWN_VERSION_LABELS)
        {
            assert_eq!(v.as_str(), *label);
        }
    }
}
