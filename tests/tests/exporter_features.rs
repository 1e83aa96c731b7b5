//! What each feature set of `mcp-metrics-exporter` compiles, read from `cargo tree`: a pull-only
//! build has no HTTP client, TLS or protobuf code; push and OTLP bring reqwest on rustls with the
//! ring provider (never aws-lc or OpenSSL); the tracing pipeline does not switch on facade
//! features, so it never changes what `#[mcp_tool]` emits.

use std::process::Command;

fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn tree(flags: &[&str], extra: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "tree",
            "--offline",
            "-p",
            "mcp-metrics-exporter",
            "--prefix",
            "none",
        ])
        .args(extra)
        .args(flags)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().trim_end_matches(" (*)").to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

/// The library names in the normal dependency tree.
fn crates(flags: &[&str]) -> Vec<String> {
    tree(flags, &["-e", "normal", "--format", "{lib}"])
}

/// The enabled features of `package`, e.g. `client` for `hyper feature "client"`.
fn features_of(flags: &[&str], package: &str) -> Vec<String> {
    let prefix = format!("{package} feature \"");
    tree(flags, &["-e", "normal,features"])
        .into_iter()
        .filter_map(|l| {
            l.strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix('"'))
                .map(str::to_owned)
        })
        .collect()
}

const NETWORK_AND_PROTOBUF: [&str; 9] = [
    "reqwest",
    "rustls",
    "hyper_rustls",
    "tokio_rustls",
    "flate2",
    "prost",
    "opentelemetry_proto",
    "tonic",
    "opentelemetry",
];

#[test]
fn a_pull_only_build_compiles_no_http_client_tls_or_protobuf() {
    let pull = ["--no-default-features"];
    let names = crates(&pull);
    assert!(names.contains(&"axum".to_owned()), "{names:?}");
    for absent in NETWORK_AND_PROTOBUF {
        assert!(
            !names.contains(&absent.to_owned()),
            "{absent} is in a pull-only build: {names:?}"
        );
    }
    let hyper = features_of(&pull, "hyper");
    assert!(hyper.contains(&"server".to_owned()), "{hyper:?}");
    assert!(!hyper.contains(&"client".to_owned()), "{hyper:?}");
    let hyper_util = features_of(&pull, "hyper-util");
    assert!(
        !hyper_util.iter().any(|f| f.starts_with("client")),
        "{hyper_util:?}"
    );
}

#[test]
fn push_alone_compiles_no_protobuf() {
    let names = crates(&["--no-default-features", "--features", "push"]);
    for present in ["reqwest", "rustls", "ring", "flate2"] {
        assert!(names.contains(&present.to_owned()), "{present}: {names:?}");
    }
    for absent in ["prost", "opentelemetry_proto", "tonic", "opentelemetry"] {
        assert!(!names.contains(&absent.to_owned()), "{absent}: {names:?}");
    }
}

#[test]
fn every_feature_uses_rustls_with_ring_and_no_other_tls_stack() {
    for flags in [&[][..], &["--all-features"][..]] {
        let names = crates(flags);
        for present in ["reqwest", "rustls", "ring", "prost", "opentelemetry_proto"] {
            assert!(names.contains(&present.to_owned()), "{present}: {names:?}");
        }
        for absent in [
            "aws_lc_rs",
            "aws_lc_sys",
            "openssl",
            "openssl_sys",
            "native_tls",
        ] {
            assert!(
                !names.contains(&absent.to_owned()),
                "{absent} with {flags:?}: {names:?}"
            );
        }
    }
}

#[test]
fn the_tracing_pipeline_leaves_the_facade_features_alone() {
    let flags = ["--no-default-features", "--features", "telemetry-grpc"];
    let facade = features_of(&flags, "mcp-metrics");
    assert_eq!(
        facade,
        ["metrics"],
        "the exporter must not enable otel or trace"
    );
}
