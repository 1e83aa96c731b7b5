//! Compiling metrics out: with `default-features = false`, neither `metrics` nor `tracing` is in
//! the build of `mcp-metrics`, and the example server built `--no-default-features` serves its
//! tools with no code of `metrics`, of the exporter or of this workspace's spans linked in.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The crate names in the normal dependency tree of `package` with the given feature flags.
fn dependency_names(package: &str, flags: &[&str]) -> Vec<String> {
    let out = Command::new(cargo())
        .current_dir(workspace_root())
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{lib}",
        ])
        .args(flags)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn compiled_out_links_neither_metrics_nor_tracing() {
    let off = dependency_names("mcp-metrics", &["--no-default-features"]);
    for crate_name in ["metrics", "tracing", "tracing_core", "quanta", "rmcp"] {
        assert!(
            !off.iter().any(|n| n == crate_name),
            "{crate_name} is linked with default features off: {off:?}"
        );
    }
    // the proc-macro crate and its parser are all that remains
    assert!(off.iter().any(|n| n == "mcp_metrics_macros"), "{off:?}");
}

#[test]
fn default_features_link_metrics_and_tracing() {
    let on = dependency_names("mcp-metrics", &[]);
    for crate_name in ["metrics", "tracing", "quanta"] {
        assert!(
            on.iter().any(|n| n == crate_name),
            "{crate_name} missing with default features: {on:?}"
        );
    }
    let metrics_only = dependency_names(
        "mcp-metrics",
        &["--no-default-features", "--features", "metrics"],
    );
    assert!(metrics_only.iter().any(|n| n == "metrics"));
    assert!(
        !metrics_only.iter().any(|n| n == "tracing"),
        "{metrics_only:?}"
    );
}

#[test]
fn the_tokenizer_comes_with_the_tokens_feature_only() {
    let tokenizer = |names: &[String]| names.iter().any(|n| n == "tiktoken_rs");
    let default = dependency_names("mcp-metrics", &[]);
    assert!(!tokenizer(&default), "{default:?}");
    let with_tokens = dependency_names("mcp-metrics", &["--features", "tokens"]);
    assert!(tokenizer(&with_tokens), "{with_tokens:?}");
}

/// Crates that only the `instrumented` feature of the example server brings in. Both builds log
/// rmcp's events through `tracing-subscriber`, as any server does: the build without
/// instrumentation through a plain text logger of its own, which is no code of this workspace
/// (`mcp-metrics` without default features depends on no `tracing` at all, see above).
const INSTRUMENTATION_CRATES: [&str; 5] = [
    "metrics",
    "quanta",
    "mcp_metrics_exporter",
    "opentelemetry",
    "tracing_opentelemetry",
];

#[test]
fn example_server_without_default_features_depends_on_no_instrumentation() {
    let off = dependency_names("mcp-metrics-examples", &["--no-default-features"]);
    for crate_name in INSTRUMENTATION_CRATES {
        assert!(
            !off.iter().any(|n| n == crate_name),
            "{crate_name} is a dependency of the example server built --no-default-features: {off:?}"
        );
    }
    let on = dependency_names("mcp-metrics-examples", &[]);
    for crate_name in INSTRUMENTATION_CRATES {
        assert!(
            on.iter().any(|n| n == crate_name),
            "{crate_name} is missing from the instrumented example server: {on:?}"
        );
    }
}

/// Demangled symbol names of a binary, one per line, without address and type.
fn symbols(binary: &Path) -> Vec<String> {
    let out = Command::new("nm")
        .arg("-C")
        .arg(binary)
        .output()
        .expect("nm runs (binutils)");
    assert!(
        out.status.success(),
        "nm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.splitn(3, ' ').nth(2))
        .map(str::to_owned)
        .collect()
}

/// Whether `symbol` names an item of crate `krate`: `krate::` at the start of a path, not as
/// the tail of another path (`tokio::runtime::metrics::`) or of a longer name (`mcp_metrics::`).
fn names_crate(symbol: &str, krate: &str) -> bool {
    let needle = format!("{krate}::");
    symbol.match_indices(&needle).any(|(at, _)| {
        symbol[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
    })
}

/// What the instrumentation links into a binary, by what to look for in its symbols.
struct Probe {
    what: &'static str,
    found: fn(&str) -> bool,
}

const PROBES: [Probe; 8] = [
    Probe {
        what: "mcp_metrics::__private (what #[mcp_tool] and the helper macros call)",
        found: |s| names_crate(s, "mcp_metrics::__private"),
    },
    Probe {
        what: "the Instrumented handler (mcp_metrics::rmcp)",
        found: |s| names_crate(s, "mcp_metrics::rmcp"),
    },
    Probe {
        what: "the metrics crate",
        found: |s| names_crate(s, "metrics"),
    },
    Probe {
        what: "the quanta clock",
        found: |s| names_crate(s, "quanta"),
    },
    Probe {
        what: "mcp-metrics-exporter",
        found: |s| names_crate(s, "mcp_metrics_exporter"),
    },
    Probe {
        what: "the tracing pipeline (tracing-opentelemetry)",
        found: |s| names_crate(s, "tracing_opentelemetry"),
    },
    // rmcp itself logs through `tracing`, so `tracing_core` is linked in any rmcp server: what
    // must be absent are the spans of this workspace, whose call sites are statics named after
    // the function that opens them.
    Probe {
        what: "spans of the tools (#[mcp_tool] call sites)",
        found: |s| s.starts_with("mcp_metrics_examples::Tools::") && s.contains("__CALLSITE"),
    },
    Probe {
        what: "spans of mcp-metrics",
        found: |s| names_crate(s, "mcp_metrics") && s.contains("__CALLSITE"),
    },
];

/// The example server built with `cargo build --no-default-features` into a target directory of
/// its own, so that features unified with the rest of the workspace cannot switch anything on.
fn compiled_out_server() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("compiled-out");
    let out = Command::new(cargo())
        .current_dir(workspace_root())
        .args([
            "build",
            "-p",
            "mcp-metrics-examples",
            "--bin",
            "http-server",
            "--no-default-features",
            "--target-dir",
        ])
        .arg(&target)
        .output()
        .expect("cargo build runs");
    assert!(
        out.status.success(),
        "building the compiled-out server failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("debug/http-server")
}

#[test]
fn compiled_out_server_has_no_metrics_or_tracing_code() {
    let bare = symbols(&compiled_out_server());
    assert!(
        bare.iter()
            .any(|s| s.starts_with("mcp_metrics_examples::Tools::add")),
        "the tool functions are there"
    );
    for probe in &PROBES {
        let linked: Vec<&String> = bare.iter().filter(|s| (probe.found)(s)).take(5).collect();
        assert!(
            linked.is_empty(),
            "{} is linked into the example server built --no-default-features: {linked:#?}",
            probe.what
        );
    }
    // The same probes find each of them in the instrumented server.
    let instrumented = symbols(&mcp_metrics_tests::harness::example_bin("http-server"));
    for probe in &PROBES {
        assert!(
            instrumented.iter().any(|s| (probe.found)(s)),
            "{} is missing from the instrumented example server",
            probe.what
        );
    }
}

/// A server process, killed on drop.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn compiled_out_server_serves_the_tools() {
    use std::io::BufRead as _;
    let mut child = Command::new(compiled_out_server())
        .env("MCP_BIND", "127.0.0.1:0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the compiled-out server starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let server = Running(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the first line of the server");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));

    let mut mcp = mcp_metrics_tests::harness::McpHttp::connect(&format!("{addr}/mcp"));
    let list = mcp.request("tools/list", serde_json::json!({}));
    let tools = list["result"]["tools"].as_array().expect("a tool list");
    for name in ["add", "lookup", "validate", "slow", "summarize", "crash"] {
        assert!(tools.iter().any(|t| t["name"] == name), "{name}: {list}");
    }
    let sum = mcp.call_tool("add", serde_json::json!({"a": 2, "b": 3}));
    assert_eq!(sum["result"]["content"][0]["text"], "5", "{sum}");
    let missing = mcp.call_tool("lookup", serde_json::json!({"key": "gamma"}));
    assert_eq!(missing["result"]["isError"], true, "{missing}");
    let (status, _) = mcp_metrics_tests::harness::get(&format!("{addr}/metrics"), &[]);
    assert_eq!(status, 404, "no /metrics when compiled out");
    drop(server);
}
