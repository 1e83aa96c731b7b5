//! The `risk` label of tool calls, from the annotations of each tool: on the tool layer from the
//! `#[tool]` attribute beside `#[mcp_tool]`, on the request layer from the definition the handler
//! returns, with the specification's defaults (not read-only, destructive) where a hint is left
//! out. Served by `Instrumented` around a `#[tool_router]` handler to rmcp's own client.
#![cfg(all(feature = "metrics", feature = "rmcp"))]

use mcp_metrics::mcp_tool;
use mcp_metrics::rmcp::Instrumented;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::{ClientHandler, ServerHandler, ServiceExt, tool, tool_handler, tool_router};

#[derive(Clone)]
struct Tools {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Tools {
    /// Read-only.
    #[mcp_tool(metrics)]
    #[tool(annotations(read_only_hint = true))]
    fn read(&self) -> String {
        "read".into()
    }

    /// Read-only wins over a destructive hint, which the specification ignores then.
    #[mcp_tool(metrics)]
    #[tool(annotations(read_only_hint = true, destructive_hint = true))]
    fn read_destructive(&self) -> String {
        "read".into()
    }

    /// The bare hint is `true`, as rmcp reads it.
    #[mcp_tool(metrics)]
    #[tool(annotations(read_only_hint))]
    fn read_word(&self) -> String {
        "read".into()
    }

    /// A hint as a string, which rmcp accepts too.
    #[mcp_tool(metrics)]
    #[tool(annotations(destructive_hint = "false"))]
    fn append_string(&self) -> String {
        "appended".into()
    }

    /// Not destructive: only adds.
    #[mcp_tool(metrics)]
    #[tool(annotations(destructive_hint = false))]
    fn append(&self) -> String {
        "appended".into()
    }

    /// Explicitly not read-only, not destructive, idempotent.
    #[mcp_tool(metrics)]
    #[tool(
        name = "append-idempotent",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true
        )
    )]
    fn append_idempotent(&self) -> String {
        "appended".into()
    }

    /// Declared destructive.
    #[mcp_tool(metrics)]
    #[tool(annotations(title = "Delete", destructive_hint = true))]
    fn delete(&self) -> String {
        "deleted".into()
    }

    /// No annotations: the defaults make it destructive.
    #[mcp_tool(metrics)]
    #[tool]
    fn plain(&self) -> String {
        "plain".into()
    }

    /// Hints that do not change the class: still destructive by default.
    #[mcp_tool(metrics)]
    #[tool(annotations(idempotent_hint = true, open_world_hint = false))]
    fn closed(&self) -> String {
        "closed".into()
    }

    /// Not instrumented, so unknown to the request layer until it answers.
    #[tool(annotations(read_only_hint = true))]
    fn uninstrumented(&self) -> String {
        "read".into()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {}

#[derive(Clone, Default)]
struct Client;
impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }
}

/// What was recorded (a snapshot drains the histograms, so it is taken once).
struct Snapshot(Vec<(metrics::Key, DebugValue)>);

impl Snapshot {
    fn take(snapshotter: &Snapshotter) -> Self {
        let series = snapshotter.snapshot().into_vec().into_iter();
        Snapshot(
            series
                .map(|(key, _, _, value)| (key.key().clone(), value))
                .collect(),
        )
    }
}

/// Samples of the series of `name` whose labels include `labels`.
fn count(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> usize {
    snapshot
        .0
        .iter()
        .filter(|(key, _)| {
            key.name() == name
                && labels
                    .iter()
                    .all(|(k, v)| key.labels().any(|l| l.key() == *k && l.value() == *v))
        })
        .map(|(_, value)| match value {
            DebugValue::Histogram(samples) => samples.len(),
            other => panic!("{name} is not a histogram: {other:?}"),
        })
        .sum()
}

const EXPECTED: [(&str, &str); 9] = [
    ("read", "read_only"),
    ("read_destructive", "read_only"),
    ("read_word", "read_only"),
    ("append_string", "additive"),
    ("append", "additive"),
    ("append-idempotent", "additive"),
    ("delete", "destructive"),
    ("plain", "destructive"),
    ("closed", "destructive"),
];

#[tokio::test]
async fn each_annotation_combination_gets_its_risk_on_both_layers() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let tools = Tools {
            tool_router: Tools::tool_router(),
        };
        let running = Instrumented::new(tools).serve(server_io).await.unwrap();
        running.waiting().await.unwrap();
    });
    let client = Client.serve(client_io).await.unwrap();
    // Called before any tools/list: the request layer asks the handler for each definition
    // once, and no call is labelled before its tool's risk is known.
    for _ in 0..2 {
        for (tool, _) in EXPECTED.iter().chain([&("uninstrumented", "")]) {
            client
                .call_tool(CallToolRequestParams::new(*tool))
                .await
                .unwrap();
        }
    }
    assert!(
        client
            .call_tool(CallToolRequestParams::new("missing"))
            .await
            .is_err()
    );
    client.cancel().await.unwrap();
    server.await.unwrap();

    let snapshot = Snapshot::take(&snapshotter);
    let tool_layer = "mcp_tool_duration_seconds";
    let request_layer = "mcp_server_operation_duration_seconds";
    for (tool, risk) in EXPECTED {
        for metric in [tool_layer, request_layer] {
            assert_eq!(
                count(&snapshot, metric, &[("tool", tool), ("risk", risk)]),
                2,
                "{metric} {tool} {risk}"
            );
            assert_eq!(
                count(&snapshot, metric, &[("tool", tool)]),
                2,
                "{metric} {tool}: a call under another risk"
            );
        }
    }
    // Learned from its first answer, labelled with its definition from that first call on.
    let uninstrumented = [("tool", "uninstrumented"), ("risk", "read_only")];
    assert_eq!(count(&snapshot, request_layer, &uninstrumented), 2);
    // A name the server does not have: `_unknown` for both.
    let missing = [("tool", "_unknown"), ("risk", "_unknown")];
    assert_eq!(count(&snapshot, request_layer, &missing), 1);
    // Other methods carry no risk.
    assert_eq!(
        count(&snapshot, request_layer, &[("method", "initialize")]),
        1
    );
    assert_eq!(
        count(
            &snapshot,
            request_layer,
            &[("method", "initialize"), ("risk", "_unknown")]
        ),
        0
    );
}
