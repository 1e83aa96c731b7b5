//! Service-level objectives of tools, checked when the exporter is built and exported as the
//! constant gauge `mcp_tool_objective_ratio`.
//!
//! The objectives are those declared with `#[mcp_tool(objective(...))]` (listed by
//! [`mcp_metrics::objectives()`]) and those added at start-up with
//! [`ExporterBuilder::objective`](crate::ExporterBuilder::objective) for tools defined elsewhere.
//! [`ExporterBuilder::build`](crate::ExporterBuilder::build) refuses an objective that declares
//! no part, a tool with two objectives, and a latency threshold that is not a bucket bound of
//! `mcp_tool_duration_seconds` as configured (the error names the tool and lists the bounds).
//!
//! Each objective becomes one series per part, registered once and never changed:
//!
//! ```text
//! mcp_tool_objective_ratio{objective="success",tool="search"} 0.999
//! mcp_tool_objective_ratio{le="0.5",objective="latency",tool="search"} 0.95
//! ```
//!
//! This is an info-style metric that rules join in PromQL (`on (job, tool)`, and `on (job, tool,
//! le)` to pick the bucket of the threshold), rather than objective labels on the duration
//! series: the hot path records exactly what it did before, the duration series keep their
//! identity when an objective changes, an objective given at start-up for a tool defined
//! elsewhere needs no change to that tool, and a tool without an objective has no series to join,
//! so the generic rules produce nothing for it.
//!
//! The `le` label is spelled as Prometheus stores the bucket's `le` after a scrape: the
//! exporter answers Prometheus's scrapes in OpenMetrics, whose canonical floats write whole
//! numbers with `.0` (`1.0`, `0.5`), and Prometheus 3 normalises classic-histogram `le` labels
//! to the same form. The bundle's rules also strip a trailing `.0` from both sides before the
//! join, so a 0.0.4 text scrape (`le="1"`, as through a Pushgateway) matches as well.

use mcp_metrics::Objective;
use mcp_metrics::names::{self, label, objective};
use metrics::{Key, Label, Recorder as _};

use crate::error::Error;
use crate::registry::Registry;
use crate::rules::RegistryConfig;
use crate::sanitize::push_le;

/// The objectives of `declared` (from the macro) and `added` (from the builder), in that order,
/// each checked: a part declared, one objective per tool, a latency threshold that is a bucket
/// bound of `mcp_tool_duration_seconds` under `config`.
pub(crate) fn checked<'a>(
    declared: impl IntoIterator<Item = &'a Objective>,
    added: &[Objective],
    config: &RegistryConfig,
) -> Result<Vec<Objective>, Error> {
    let buckets = config.buckets_for_name(names::TOOL_DURATION_SECONDS);
    let mut out: Vec<Objective> = Vec::new();
    let mut check = |o: &Objective| -> Result<(), Error> {
        o.validate()?;
        if out.iter().any(|seen| seen.tool() == o.tool()) {
            return Err(Error::DuplicateObjective {
                tool: o.tool().to_owned(),
            });
        }
        if let Some(threshold) = o.latency_threshold_seconds()
            && !buckets.bounds().contains(&threshold)
        {
            return Err(Error::ObjectiveThreshold {
                tool: o.tool().to_owned(),
                threshold,
                bounds: buckets.bounds().to_vec(),
            });
        }
        out.push(o.clone());
        Ok(())
    };
    declared.into_iter().try_for_each(&mut check)?;
    added.iter().try_for_each(&mut check)?;
    Ok(out)
}

/// The `le` label of a latency threshold: the OpenMetrics spelling of the bucket bound.
pub(crate) fn le_label(threshold: f64) -> String {
    let mut le = String::new();
    push_le(&mut le, threshold, true);
    le
}

/// Registers the series of every objective in `registry`, set to their ratios.
pub(crate) fn record(objectives: &[Objective], registry: &Registry) {
    let metadata = metrics::Metadata::new(module_path!(), metrics::Level::INFO, None);
    let set = |labels: Vec<Label>, ratio: f64| {
        let key = Key::from_parts(names::TOOL_OBJECTIVE_RATIO, labels);
        registry.register_gauge(&key, &metadata).set(ratio);
    };
    for o in objectives {
        let tool = || Label::new(label::TOOL, o.tool().to_owned());
        if let Some(ratio) = o.success_ratio() {
            set(
                vec![tool(), Label::new(label::OBJECTIVE, objective::SUCCESS)],
                ratio,
            );
        }
        if let (Some(threshold), Some(ratio)) = (o.latency_threshold_seconds(), o.latency_ratio()) {
            set(
                vec![
                    tool(),
                    Label::new(label::OBJECTIVE, objective::LATENCY),
                    Label::new(label::LE, le_label(threshold)),
                ],
                ratio,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::MetricMatcher;

    fn search() -> Objective {
        Objective::new("search")
            .success(99.9)
            .unwrap()
            .latency(0.5, 95.0)
            .unwrap()
    }

    #[test]
    fn declared_and_added_objectives_are_kept_in_order() {
        let declared = [search()];
        let added = [Objective::new("batch").success(99.0).unwrap()];
        let all = checked(&declared, &added, &RegistryConfig::default()).unwrap();
        let tools: Vec<&str> = all.iter().map(Objective::tool).collect();
        assert_eq!(tools, ["search", "batch"]);
    }

    #[test]
    fn a_second_objective_for_a_tool_is_refused() {
        let declared = [search()];
        let added = [Objective::new("search").success(99.0).unwrap()];
        let err = checked(&declared, &added, &RegistryConfig::default()).unwrap_err();
        assert!(
            matches!(&err, Error::DuplicateObjective { tool } if tool == "search"),
            "{err:?}"
        );
        // Two declared ones too.
        let err = checked(&[search(), search()], &[], &RegistryConfig::default()).unwrap_err();
        assert!(matches!(err, Error::DuplicateObjective { .. }), "{err:?}");
    }

    #[test]
    fn a_threshold_must_be_a_bucket_bound_of_the_configured_buckets() {
        let slow = Objective::new("slow").latency(0.3, 90.0).unwrap();
        let err =
            checked(&[], std::slice::from_ref(&slow), &RegistryConfig::default()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("`slow`"), "{message}");
        assert!(message.contains("0.3"), "{message}");
        assert!(
            message.contains("[0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0"),
            "{message}"
        );
        let config = RegistryConfig::default()
            .buckets_for(
                MetricMatcher::Exact(names::TOOL_DURATION_SECONDS.into()),
                &[0.1, 0.3, 1.0],
            )
            .unwrap();
        assert_eq!(checked(&[], &[slow], &config).unwrap().len(), 1);
        // Buckets of other metrics do not count.
        let other = RegistryConfig::default()
            .buckets_for(MetricMatcher::Exact("other_seconds".into()), &[0.3])
            .unwrap();
        let slow = Objective::new("slow").latency(0.3, 90.0).unwrap();
        assert!(checked(&[], &[slow], &other).is_err());
    }

    #[test]
    fn an_objective_without_a_part_is_refused() {
        let err = checked(&[], &[Objective::new("empty")], &RegistryConfig::default()).unwrap_err();
        assert!(matches!(&err, Error::Objective(e) if e.tool() == "empty"));
        assert_eq!(
            err.to_string(),
            "objective of tool `empty`: it declares neither a success nor a latency target"
        );
    }

    #[test]
    fn le_is_spelled_as_the_openmetrics_bucket_label() {
        assert_eq!(le_label(0.5), "0.5");
        assert_eq!(le_label(1.0), "1.0");
        assert_eq!(le_label(30.0), "30.0");
        assert_eq!(le_label(0.005), "0.005");
        // The same text as the bucket of the duration histogram in an OpenMetrics scrape.
        let registry = Registry::default();
        metrics::with_local_recorder(&registry, || {
            metrics::histogram!(names::TOOL_DURATION_SECONDS, "tool" => "t").record(0.1);
        });
        let om = registry.render_openmetrics();
        for le in ["0.5", "1.0", "30.0"] {
            assert!(om.contains(&format!("le=\"{le}\"")), "{om}");
        }
    }

    #[test]
    fn each_part_is_one_constant_series() {
        let registry = Registry::default();
        let batch = Objective::new("batch").success(99.0).unwrap();
        let timed = Objective::new("timed").latency(1.0, 99.0).unwrap();
        record(&[search(), batch, timed], &registry);
        let text = registry.render_prometheus();
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("mcp_tool_objective_ratio"))
            .collect();
        assert_eq!(
            series,
            [
                "mcp_tool_objective_ratio{le=\"0.5\",objective=\"latency\",tool=\"search\"} 0.95",
                "mcp_tool_objective_ratio{le=\"1.0\",objective=\"latency\",tool=\"timed\"} 0.99",
                "mcp_tool_objective_ratio{objective=\"success\",tool=\"batch\"} 0.99",
                "mcp_tool_objective_ratio{objective=\"success\",tool=\"search\"} 0.999",
            ],
            "{text}"
        );
    }
}
