//! With `default-features = false`, neither `metrics` nor `tracing` is in the build of `mcp-metrics`.

use std::process::Command;

fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

/// The crate names in the normal dependency tree of `mcp-metrics` with the given feature flags.
fn dependency_names(flags: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "tree",
            "--offline",
            "-p",
            "mcp-metrics",
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
    let off = dependency_names(&["--no-default-features"]);
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
    let on = dependency_names(&[]);
    for crate_name in ["metrics", "tracing", "quanta"] {
        assert!(
            on.iter().any(|n| n == crate_name),
            "{crate_name} missing with default features: {on:?}"
        );
    }
    let metrics_only = dependency_names(&["--no-default-features", "--features", "metrics"]);
    assert!(metrics_only.iter().any(|n| n == "metrics"));
    assert!(
        !metrics_only.iter().any(|n| n == "tracing"),
        "{metrics_only:?}"
    );
}

/// Demangled symbol names of a binary.
fn symbols(binary: &std::path::Path) -> String {
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
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn compiled_out_example_has_no_metrics_or_tracing_code() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Built alone, so that no other workspace member switches the features on.
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "-p", "mcp-metrics-example-compiled-out"])
        .status()
        .expect("cargo build runs");
    assert!(status.success());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let bare = symbols(&target.join("debug/mcp-metrics-example-compiled-out"));
    assert!(
        bare.contains("compiled_out::add"),
        "the tool functions are there"
    );
    for needle in [
        "mcp_metrics::__private",
        "metrics::recorder",
        "tracing_core::",
        "quanta::",
    ] {
        assert!(
            !bare.contains(needle),
            "{needle} linked into the compiled-out example"
        );
    }
    // The same check finds them in an instrumented example.
    let instrumented = symbols(&mcp_metrics_tests::harness::example_bin("http-server"));
    for needle in [
        "mcp_metrics::__private",
        "metrics::recorder",
        "tracing_core::",
    ] {
        assert!(
            instrumented.contains(needle),
            "{needle} missing from the instrumented example"
        );
    }
}
