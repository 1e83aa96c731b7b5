//! Objectives refused at start-up: `ExporterBuilder::build` (and so `install`) fails with an error
//! naming the tool when a declared or added objective has a latency threshold that is not a bucket
//! bound of `mcp_tool_duration_seconds`, or when a tool has two objectives. This binary declares
//! one objective with `#[mcp_tool(objective(...))]`, at 0.3 s, which the default buckets lack.

use mcp_metrics::names::{DEFAULT_DURATION_BUCKETS, TOOL_DURATION_SECONDS};
use mcp_metrics::{Objective, mcp_tool};
use mcp_metrics_exporter::{Error, Exporter, ExporterBuilder, ExporterKind, MetricMatcher};

/// Searches; 90 % of its calls must finish within 0.3 s.
#[mcp_tool(metrics, objective(success = 99.5, latency = 0.3, latency_target = 90))]
fn search(query: &str) -> Result<usize, std::io::Error> {
    Ok(query.len())
}

fn builder() -> ExporterBuilder {
    ExporterBuilder::new().exporter(ExporterKind::None)
}

/// Buckets of the tool duration histogram that hold 0.3.
fn with_buckets(builder: ExporterBuilder) -> ExporterBuilder {
    builder
        .buckets_for(
            MetricMatcher::Exact(TOOL_DURATION_SECONDS.into()),
            &[0.05, 0.1, 0.3, 1.0, 5.0],
        )
        .expect("valid buckets")
}

fn build_err(builder: ExporterBuilder) -> Error {
    match builder.build() {
        Ok(_) => panic!("the exporter was built"),
        Err(e) => e,
    }
}

#[test]
fn a_declared_threshold_off_the_buckets_is_an_error_naming_the_tool() {
    assert_eq!(search("abc").unwrap(), 3);
    let declared: Vec<&Objective> = mcp_metrics::objectives().collect();
    assert_eq!(declared.len(), 1, "{declared:?}");
    assert_eq!(declared[0].tool(), "search");

    let err = build_err(builder());
    match &err {
        Error::ObjectiveThreshold {
            tool,
            threshold,
            bounds,
        } => {
            assert_eq!(tool, "search");
            assert_eq!(*threshold, 0.3);
            assert_eq!(bounds, DEFAULT_DURATION_BUCKETS);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "objective of tool `search`: the latency threshold 0.3 s is not a bucket bound of \
         mcp_tool_duration_seconds, whose bounds are [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, \
         0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0]: choose one of them, or set the \
         buckets with ExporterBuilder::buckets_for"
    );
    // The one-call installation fails the same way, before it installs anything.
    assert!(matches!(
        builder()
            .exporter(ExporterKind::Prometheus)
            .without_listener()
            .install(),
        Err(Error::ObjectiveThreshold { .. })
    ));
}

#[test]
fn buckets_with_the_threshold_make_it_valid_and_exported() {
    let exporter: Exporter = with_buckets(builder()).build().expect("built");
    assert_eq!(exporter.objectives().len(), 1);
    let text = exporter.registry().render_openmetrics();
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("mcp_tool_objective_ratio"))
        .collect();
    assert_eq!(
        series,
        [
            "mcp_tool_objective_ratio{le=\"0.3\",objective=\"latency\",tool=\"search\"} 0.9",
            "mcp_tool_objective_ratio{objective=\"success\",tool=\"search\"} 0.995",
        ],
        "{text}"
    );
    assert!(
        text.contains("# HELP mcp_tool_objective_ratio Service-level objective of a tool"),
        "{text}"
    );
}

#[test]
fn a_second_objective_for_a_declared_tool_is_an_error_naming_it() {
    let again = Objective::new("search").success(99.0).unwrap();
    let err = build_err(with_buckets(builder()).objective(again));
    assert!(
        matches!(&err, Error::DuplicateObjective { tool } if tool == "search"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "tool `search` has two objectives: give each tool one, with #[mcp_tool(objective(...))] \
         or ExporterBuilder::objective"
    );
    let twice = || Objective::new("remote").success(99.0).unwrap();
    let err = build_err(
        with_buckets(builder())
            .objective(twice())
            .objective(twice()),
    );
    assert!(
        matches!(&err, Error::DuplicateObjective { tool } if tool == "remote"),
        "{err:?}"
    );
}

#[test]
fn objectives_of_tools_defined_elsewhere_are_checked_and_exported() {
    let off = Objective::new("remote")
        .success(99.0)
        .unwrap()
        .latency(0.25, 95.0)
        .unwrap();
    let err = build_err(with_buckets(builder()).objective(off));
    assert!(
        matches!(&err, Error::ObjectiveThreshold { tool, threshold, bounds }
            if tool == "remote" && *threshold == 0.25 && bounds == &[0.05, 0.1, 0.3, 1.0, 5.0]),
        "{err:?}"
    );

    let empty = build_err(with_buckets(builder()).objective(Objective::new("remote")));
    assert!(
        matches!(&empty, Error::Objective(e) if e.tool() == "remote"),
        "{empty:?}"
    );

    let on_bound = Objective::new("remote")
        .success(99.0)
        .unwrap()
        .latency(1.0, 95.0)
        .unwrap();
    let exporter = with_buckets(builder())
        .objective(on_bound)
        .build()
        .expect("built");
    let tools: Vec<&str> = exporter.objectives().iter().map(Objective::tool).collect();
    assert_eq!(tools, ["search", "remote"], "declared ones first");
    let om = exporter.registry().render_openmetrics();
    assert!(
        om.contains(
            "mcp_tool_objective_ratio{le=\"1.0\",objective=\"latency\",tool=\"remote\"} 0.95\n"
        ),
        "{om}"
    );
    // The 0.0.4 text format writes the same label value: it is a label, not a bucket bound.
    let text = exporter.registry().render_prometheus();
    assert!(
        text.contains(
            "mcp_tool_objective_ratio{le=\"1.0\",objective=\"latency\",tool=\"remote\"} 0.95\n"
        ),
        "{text}"
    );
}
