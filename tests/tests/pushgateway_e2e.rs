//! Two replicas of the example HTTP server push to a real Prometheus Pushgateway (Debian package
//! `prometheus-pushgateway`, started here on a free 127.0.0.1 port with a temporary persistence
//! file) at the same time, each with its own `instance`. Each group holds exactly the tool calls
//! made on its replica; after a graceful shutdown (SIGTERM) with deletion on, that replica's
//! group is gone and the other one stays. One replica pushes gzip-compressed bodies.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mcp_metrics_tests::harness::{ExampleServer, McpHttp, agent, eventually, free_port, which};
use serde_json::{Value, json};

/// The Pushgateway process, killed on drop.
struct Pushgateway {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Pushgateway {
    fn start() -> Self {
        let bin = which("prometheus-pushgateway").expect(
            "the `prometheus-pushgateway` binary is not installed: \
             `apt-get install -y prometheus-pushgateway` (.ci/run does it)",
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let child = Command::new(bin)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!(
                "--persistence.file={}",
                dir.path().join("metrics.store").display()
            ))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the pushgateway");
        let gateway = Pushgateway {
            child,
            url,
            _dir: dir,
        };
        let ready = eventually(Duration::from_secs(20), || {
            agent()
                .get(&format!("{}/-/ready", gateway.url))
                .call()
                .ok()
                .filter(|r| r.status() == 200)
        });
        assert!(ready.is_some(), "the pushgateway did not become ready");
        gateway
    }

    /// Every group: its grouping labels and, per tool, the count of `tools/call` operations.
    fn groups(&self) -> Vec<(BTreeMap<String, String>, BTreeMap<String, u64>)> {
        let mut response = agent()
            .get(&format!("{}/api/v1/metrics", self.url))
            .call()
            .expect("GET /api/v1/metrics");
        let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap())
            .expect("JSON from the pushgateway");
        assert_eq!(body["status"], "success", "{body}");
        body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|group| {
                let labels = group["labels"]
                    .as_object()
                    .expect("labels")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect();
                let mut calls = BTreeMap::new();
                let family = &group["mcp_server_operation_duration_seconds"]["metrics"];
                for series in family.as_array().into_iter().flatten() {
                    let l = &series["labels"];
                    if l["method"] == "tools/call" {
                        let tool = l["tool"].as_str().unwrap_or_default().to_owned();
                        let count: u64 = series["count"]
                            .as_str()
                            .and_then(|c| c.parse().ok())
                            .expect("a histogram count");
                        *calls.entry(tool).or_default() += count;
                    }
                }
                (labels, calls)
            })
            .collect()
    }

    /// The tool call counts of the group of `instance`, if it exists.
    fn calls_of(&self, instance: &str) -> Option<BTreeMap<String, u64>> {
        self.groups()
            .into_iter()
            .find(|(labels, _)| {
                labels.get("job").map(String::as_str) == Some("mcp-e2e")
                    && labels.get("instance").map(String::as_str) == Some(instance)
            })
            .map(|(_, calls)| calls)
    }
}

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn replica(gateway: &Pushgateway, instance: &str, compression: &str) -> ExampleServer {
    ExampleServer::start(
        "http-server",
        &[
            ("MCP_METRICS_EXPORTER", "push"),
            ("MCP_METRICS_PUSH_URL", &gateway.url),
            ("MCP_METRICS_PUSH_JOB", "mcp-e2e"),
            ("MCP_METRICS_PUSH_INSTANCE", instance),
            ("MCP_METRICS_PUSH_INTERVAL", "200ms"),
            ("MCP_METRICS_PUSH_DELETE_ON_SHUTDOWN", "true"),
            ("MCP_METRICS_PUSH_COMPRESSION", compression),
        ],
    )
}

fn call(server: &ExampleServer, calls: &[(&str, Value)]) {
    let mut client = McpHttp::connect(&server.url("/mcp"));
    for (tool, arguments) in calls {
        let response = client.call_tool(tool, arguments.clone());
        assert!(response.get("result").is_some(), "{tool}: {response}");
    }
    client.close();
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect()
}

#[test]
fn replicas_keep_their_own_groups_and_a_stopped_one_deletes_its_group() {
    let gateway = Pushgateway::start();
    let mut a = replica(&gateway, "replica-a", "none");
    // The gateway takes gzip-compressed pushes as well.
    let b = replica(&gateway, "replica-b", "gzip");

    let add = json!({"a": 1, "b": 2});
    let lookup = json!({"key": "alpha"});
    call(
        &a,
        &[
            ("add", add.clone()),
            ("add", add.clone()),
            ("add", add.clone()),
            ("lookup", lookup.clone()),
        ],
    );
    call(
        &b,
        &[
            ("add", add.clone()),
            ("lookup", lookup.clone()),
            ("lookup", lookup),
        ],
    );

    let want_a = counts(&[("add", 3), ("lookup", 1)]);
    let want_b = counts(&[("add", 1), ("lookup", 2)]);
    let both = eventually(Duration::from_secs(20), || {
        let (ga, gb) = (
            gateway.calls_of("replica-a")?,
            gateway.calls_of("replica-b")?,
        );
        (ga == want_a && gb == want_b).then_some(())
    });
    assert!(
        both.is_some(),
        "expected {want_a:?} and {want_b:?}, the gateway has {:?}",
        gateway.groups()
    );

    // A graceful stop of replica A deletes its group; B's stays as it was.
    assert!(
        a.proc.terminate(Duration::from_secs(20)),
        "replica A did not exit on SIGTERM"
    );
    let gone = eventually(Duration::from_secs(10), || {
        gateway.calls_of("replica-a").is_none().then_some(())
    });
    assert!(
        gone.is_some(),
        "replica A's group is still there: {:?}",
        gateway.groups()
    );
    assert_eq!(gateway.calls_of("replica-b"), Some(want_b));
    drop(b);
}
