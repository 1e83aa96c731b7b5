//! The risk class of a tool, from the behaviour hints of its MCP annotations: the `risk` label of
//! tool calls, so that an operator can chart and alert on calls that may destroy data.
//!
//! The MCP specification gives each hint a default that a client must assume when the server
//! leaves it out: `readOnlyHint` false, `destructiveHint` true (meaningful only when the tool is
//! not read-only). A tool without annotations is therefore one that may destroy, and is labelled
//! so. The idempotence and open-world hints do not change the class: a destructive tool that is
//! idempotent still destroys, and every class may reach an open world.

use crate::names::UNKNOWN;

/// How much a tool may change its environment, as its annotations declare it.
///
/// ```
/// use mcp_metrics::Risk;
/// assert_eq!(Risk::from_hints(Some(true), Some(true)), Risk::ReadOnly);
/// assert_eq!(Risk::from_hints(None, Some(false)), Risk::Additive);
/// // The specification's defaults: not read-only, destructive.
/// assert_eq!(Risk::from_hints(None, None), Risk::Destructive);
/// assert_eq!(Risk::Destructive.as_str(), "destructive");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Risk {
    /// `readOnlyHint: true`: the tool does not modify its environment.
    ReadOnly,
    /// Not read-only, `destructiveHint: false`: the tool only adds to its environment.
    Additive,
    /// Not read-only and `destructiveHint` true or absent: the tool may destroy or overwrite.
    Destructive,
    /// The tool's definition has not been seen (or the tool is not known): `_unknown`.
    #[default]
    Unknown,
}

impl Risk {
    /// The class of a tool with these `readOnlyHint` and `destructiveHint` values (`None` when
    /// the annotation leaves the hint out), with the specification's defaults.
    pub const fn from_hints(read_only: Option<bool>, destructive: Option<bool>) -> Risk {
        match (read_only, destructive) {
            (Some(true), _) => Risk::ReadOnly,
            (_, Some(false)) => Risk::Additive,
            _ => Risk::Destructive,
        }
    }

    /// The label value: `read_only`, `additive`, `destructive` or `_unknown`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Risk::ReadOnly => "read_only",
            Risk::Additive => "additive",
            Risk::Destructive => "destructive",
            Risk::Unknown => UNKNOWN,
        }
    }

    /// Every label value, for documentation and tests.
    pub const ALL: [Risk; 4] = [
        Risk::ReadOnly,
        Risk::Additive,
        Risk::Destructive,
        Risk::Unknown,
    ];
}

#[cfg(feature = "rmcp")]
impl Risk {
    /// The class of an rmcp tool definition: its annotations, or the defaults when it has none.
    pub fn of_tool(tool: &rmcp::model::Tool) -> Risk {
        match &tool.annotations {
            Some(a) => Risk::from_hints(a.read_only_hint, a.destructive_hint),
            None => Risk::from_hints(None, None),
        }
    }
}

impl std::fmt::Display for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_combination_of_hints_has_the_class_the_defaults_give() {
        let hints = [None, Some(false), Some(true)];
        for read_only in hints {
            for destructive in hints {
                let expected = if read_only == Some(true) {
                    Risk::ReadOnly
                } else if destructive == Some(false) {
                    Risk::Additive
                } else {
                    Risk::Destructive
                };
                assert_eq!(
                    Risk::from_hints(read_only, destructive),
                    expected,
                    "{read_only:?} {destructive:?}"
                );
            }
        }
        let labels: Vec<&str> = Risk::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels, ["read_only", "additive", "destructive", "_unknown"]);
    }
}
