//! Service-level objectives of tools: the [`Objective`] value, its checked builder, and
//! [`objectives()`], every objective declared with `#[mcp_tool(objective(...))]` in the binary.

use std::borrow::Cow;
use std::fmt;

/// A service-level objective of one tool: the share of calls that must not fail by the server's
/// fault, and the share of calls that must finish within a latency threshold. Either part may be
/// absent.
///
/// Declare it next to the tool, where it is checked at compile time:
///
/// ```
/// # use mcp_metrics::mcp_tool;
/// #[mcp_tool(objective(success = 99.9, latency = 0.5, latency_target = 95))]
/// async fn search(query: String) -> Result<Vec<String>, std::io::Error> {
///     Ok(vec![query])
/// }
/// ```
///
/// or, for a tool defined elsewhere, build it at start-up, where it is checked at run time:
///
/// ```
/// # fn main() -> Result<(), mcp_metrics::ObjectiveError> {
/// use mcp_metrics::Objective;
/// let batch = Objective::new("batch").success(99.0)?;
/// let search = Objective::new("search").success(99.9)?.latency(0.5, 95.0)?;
/// assert_eq!(search.success_ratio(), Some(0.999));
/// assert_eq!(search.latency_threshold_seconds(), Some(0.5));
/// assert_eq!(search.latency_ratio(), Some(0.95));
/// assert!(Objective::new("broken").success(100.0).is_err()); // no error budget left
/// # Ok(()) }
/// ```
///
/// Only failures of the server count against the success part (`fault="server"`: errors whose
/// [`ErrorKind::fault`](crate::ErrorKind::fault) is the server's, and panics); the caller's
/// mistakes do not. The latency threshold must be a bound of the duration histogram's buckets,
/// which the exporter checks at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    tool: Cow<'static, str>,
    success: Option<f64>,
    latency: Option<(f64, f64)>,
}

impl Objective {
    /// An objective of `tool` with no part yet: add them with [`success`](Self::success) and
    /// [`latency`](Self::latency).
    pub fn new(tool: impl Into<Cow<'static, str>>) -> Self {
        Objective {
            tool: tool.into(),
            success: None,
            latency: None,
        }
    }

    /// An objective the macro has already checked: ratios in (0, 1), a threshold above 0.
    #[cfg(feature = "metrics")]
    pub(crate) const fn declared(
        tool: &'static str,
        success: Option<f64>,
        latency: Option<(f64, f64)>,
    ) -> Self {
        Objective {
            tool: Cow::Borrowed(tool),
            success,
            latency,
        }
    }

    /// Sets the success part: `percent` of calls must not fail by the server's fault. It must be
    /// above 0 and below 100 (100 % leaves no error budget).
    pub fn success(mut self, percent: f64) -> Result<Self, ObjectiveError> {
        if !is_target(percent) {
            return Err(self.error(Problem::Success(percent)));
        }
        self.success = Some(percent_as_ratio(percent));
        Ok(self)
    }

    /// Sets the latency part: `percent` of calls must finish within `threshold_seconds`. The
    /// threshold must be above 0 (and a bucket bound of the duration histogram, which the exporter
    /// checks); the percentage above 0 and below 100.
    pub fn latency(mut self, threshold_seconds: f64, percent: f64) -> Result<Self, ObjectiveError> {
        if !(threshold_seconds > 0.0 && threshold_seconds.is_finite()) {
            return Err(self.error(Problem::Threshold(threshold_seconds)));
        }
        if !is_target(percent) {
            return Err(self.error(Problem::LatencyTarget(percent)));
        }
        self.latency = Some((threshold_seconds, percent_as_ratio(percent)));
        Ok(self)
    }

    /// Checks that the objective declares at least one part. Exporters call it at start-up.
    pub fn validate(&self) -> Result<(), ObjectiveError> {
        if self.success.is_none() && self.latency.is_none() {
            return Err(self.clone().error(Problem::Empty));
        }
        Ok(())
    }

    /// The tool name: the `tool` label of its series.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The share of calls that must not fail by the server's fault, as a ratio (0.999 for
    /// 99.9 %).
    pub fn success_ratio(&self) -> Option<f64> {
        self.success
    }

    /// The latency threshold in seconds.
    pub fn latency_threshold_seconds(&self) -> Option<f64> {
        self.latency.map(|(seconds, _)| seconds)
    }

    /// The share of calls that must finish within the threshold, as a ratio (0.95 for 95 %).
    pub fn latency_ratio(&self) -> Option<f64> {
        self.latency.map(|(_, ratio)| ratio)
    }

    fn error(self, problem: Problem) -> ObjectiveError {
        ObjectiveError {
            tool: self.tool,
            problem,
        }
    }
}

fn is_target(percent: f64) -> bool {
    percent > 0.0 && percent < 100.0
}

/// `percent / 100`, rounded once from the shortest decimal that prints as `percent`, so that
/// `99.9` gives the same `f64` as the literal `0.999` (plain division gives 0.9990000000000001).
/// The macro converts the literals it reads the same way.
fn percent_as_ratio(percent: f64) -> f64 {
    format!("{percent}e-2").parse().unwrap_or(percent / 100.0)
}

/// Every objective declared with `#[mcp_tool(objective(...))]` in this binary, whether or not the
/// tool was called. Exporters read them at start-up; none without the `metrics` feature.
///
/// The linker gathers them (through the `linkme` crate), so this works on the platforms `linkme`
/// supports: Linux, macOS, Windows, the BSDs and illumos.
pub fn objectives() -> impl Iterator<Item = &'static Objective> {
    #[cfg(feature = "metrics")]
    let declared: &'static [Objective] = &crate::__private::OBJECTIVES;
    #[cfg(not(feature = "metrics"))]
    let declared: &'static [Objective] = &[];
    declared.iter()
}

/// A rejected objective, naming the tool and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectiveError {
    tool: Cow<'static, str>,
    problem: Problem,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Problem {
    Success(f64),
    LatencyTarget(f64),
    Threshold(f64),
    Empty,
}

impl ObjectiveError {
    /// The tool whose objective was rejected.
    pub fn tool(&self) -> &str {
        &self.tool
    }
}

impl fmt::Display for ObjectiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "objective of tool `{}`: ", self.tool)?;
        match self.problem {
            Problem::Success(got) => write!(
                f,
                "the success target must be a percentage above 0 and below 100 (100 % leaves no \
                 error budget), not {got}"
            ),
            Problem::LatencyTarget(got) => write!(
                f,
                "the latency target must be a percentage above 0 and below 100, not {got}"
            ),
            Problem::Threshold(got) => write!(
                f,
                "the latency threshold must be a number of seconds above 0, not {got}"
            ),
            Problem::Empty => f.write_str("it declares neither a success nor a latency target"),
        }
    }
}

impl std::error::Error for ObjectiveError {}

#[cfg(test)]
mod tests {
    use super::Objective;

    #[test]
    fn builder_checks_and_names_the_tool() {
        let ok = Objective::new("search")
            .success(99.9)
            .unwrap()
            .latency(0.25, 95.0)
            .unwrap();
        assert_eq!(ok.tool(), "search");
        assert_eq!(ok.success_ratio(), Some(0.999));
        assert_eq!(ok.latency_threshold_seconds(), Some(0.25));
        assert_eq!(ok.latency_ratio(), Some(0.95));
        assert_eq!(ok.validate(), Ok(()));

        let owned = Objective::new(String::from("batch")).success(99.0).unwrap();
        assert_eq!(owned.success_ratio(), Some(0.99));
        assert_eq!(owned.latency_ratio(), None);

        for (result, message) in [
            (
                Objective::new("a").success(100.0),
                "objective of tool `a`: the success target must be a percentage above 0 and below \
                 100 (100 % leaves no error budget), not 100",
            ),
            (
                Objective::new("b").success(0.0),
                "objective of tool `b`: the success target must be a percentage above 0 and below \
                 100 (100 % leaves no error budget), not 0",
            ),
            (
                Objective::new("c").latency(0.0, 95.0),
                "objective of tool `c`: the latency threshold must be a number of seconds above 0, \
                 not 0",
            ),
            (
                Objective::new("d").latency(f64::NAN, 95.0),
                "objective of tool `d`: the latency threshold must be a number of seconds above 0, \
                 not NaN",
            ),
            (
                Objective::new("e").latency(0.5, 100.5),
                "objective of tool `e`: the latency target must be a percentage above 0 and below \
                 100, not 100.5",
            ),
        ] {
            let err = result.unwrap_err();
            assert_eq!(err.to_string(), message);
        }
        let empty = Objective::new("f").validate().unwrap_err();
        assert_eq!(empty.tool(), "f");
        assert_eq!(
            empty.to_string(),
            "objective of tool `f`: it declares neither a success nor a latency target"
        );
    }

    #[test]
    fn success_of_nan_is_rejected() {
        assert!(Objective::new("x").success(f64::NAN).is_err());
        assert!(Objective::new("x").latency(0.5, f64::INFINITY).is_err());
    }
}
