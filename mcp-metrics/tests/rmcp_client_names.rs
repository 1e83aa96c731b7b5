//! Client attribution: the `client_name` label keeps only allow-listed names, so that 1,000
//! random or hostile client names, sent over both protocol styles (legacy sessions opened with
//! `initialize`, and 2026-07-28 requests carrying `clientInfo` in `_meta`), never create a series.
#![cfg(all(feature = "metrics", feature = "rmcp"))]

use mcp_metrics::rmcp::{Instrumented, Options};
use metrics_util::debugging::{DebuggingRecorder, Snapshotter};
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientCapabilities, ClientConfig, ClientRequest,
    Implementation, ProtocolVersion, RequestMetaObject,
};
use rmcp::service::PeerRequestOptions;
use rmcp::{
    ClientLifecycleMode, ClientServiceExt, ServerHandler, ServiceExt, tool, tool_handler,
    tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Debug, Deserialize, JsonSchema)]
struct AddRequest {
    a: i64,
    b: i64,
}

#[derive(Clone)]
struct Calc {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Calc {
    /// Adds.
    #[tool]
    async fn add(&self, Parameters(AddRequest { a, b }): Parameters<AddRequest>) -> String {
        (a + b).to_string()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Calc {}

fn add() -> CallToolRequestParams {
    CallToolRequestParams::new("add").with_arguments(
        serde_json::json!({"a": 1, "b": 2})
            .as_object()
            .cloned()
            .unwrap(),
    )
}

fn server(options: &Options) -> Instrumented<Calc> {
    Instrumented::with_options(
        Calc {
            tool_router: Calc::tool_router(),
        },
        options.clone(),
    )
}

/// A legacy session: `initialize` with `name`, one call, close.
async fn legacy_session(options: &Options, name: &str) {
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = server(options);
    let serving = tokio::spawn(async move {
        let running = server.serve(server_io).await.unwrap();
        running.waiting().await.unwrap();
    });
    let client = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new(name, "1"),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25)
    .serve(client_io)
    .await
    .unwrap();
    client.call_tool(add()).await.unwrap();
    client.cancel().await.unwrap();
    serving.await.unwrap();
}

/// Random strings: ASCII, separators, quotes, braces, escapes, control characters, non-ASCII,
/// up to 200 characters.
struct Names(u64);

impl Names {
    fn next_u64(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn next_name(&mut self) -> String {
        const ALPHABET: &[char] = &[
            'a', 'b', 'c', 'x', 'y', 'z', 'A', 'Q', 'Z', '0', '7', '9', ' ', '-', '_', '.', '"',
            '\\', '\n', '\t', '{', '}', '=', ',', '/', '\0', 'é', 'Ø', '中', '😀', '\u{202e}',
        ];
        let len = (self.next_u64() % 200) as usize;
        (0..len)
            .map(|_| ALPHABET[(self.next_u64() % ALPHABET.len() as u64) as usize])
            .collect()
    }
}

/// Every series key (name and sorted labels) the recorder holds, and the `client_name` values.
fn series(snapshotter: &Snapshotter) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut keys = BTreeSet::new();
    let mut clients = BTreeSet::new();
    for (key, _, _, _) in snapshotter.snapshot().into_vec() {
        let (_, key) = key.into_parts();
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| {
                if l.key() == "client_name" {
                    clients.insert(l.value().to_owned());
                }
                format!("{}={}", l.key(), l.value())
            })
            .collect();
        labels.sort();
        keys.insert(format!("{}{{{}}}", key.name(), labels.join(",")));
    }
    (keys, clients)
}

#[test]
fn random_client_names_never_create_series() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let options = Options::new().client_names(["Claude Code", "cursor"]);
            let mut names = Names(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));

            // 2026-07-28: one client, each request with its own clientInfo in _meta.
            let (server_io, client_io) = tokio::io::duplex(1 << 16);
            let modern_server = server(&options);
            let serving = tokio::spawn(async move {
                let running = modern_server.serve(server_io).await.unwrap();
                running.waiting().await.unwrap();
            });
            let modern = ClientConfig::new(
                ClientCapabilities::default(),
                Implementation::new("cursor", "1"),
            )
            .serve_with_lifecycle(
                client_io,
                ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                },
            )
            .await
            .unwrap();
            let call_as = |name: Option<String>| {
                let modern = &modern;
                async move {
                    let mut meta = RequestMetaObject::new();
                    match name {
                        Some(name) => meta.set_client_info(Implementation::new(name, "9")),
                        // A request whose clientInfo is not an object: no name.
                        None => {
                            meta.insert("io.modelcontextprotocol/clientInfo".into(), 42.into());
                        }
                    }
                    modern
                        .send_request_with_option(
                            ClientRequest::CallToolRequest(CallToolRequest::new(add())),
                            PeerRequestOptions::no_options().with_meta(meta),
                        )
                        .await
                        .unwrap()
                        .await_response()
                        .await
                        .unwrap();
                }
            };

            // Every label value once: allowed names (in any spelling), another name, none.
            for name in ["claude code", "CURSOR", "someone-else"] {
                call_as(Some(name.into())).await;
                legacy_session(&options, name).await;
            }
            call_as(None).await;
            let (baseline, clients) = series(&snapshotter);
            assert_eq!(
                clients,
                ["_OTHER", "_unknown", "claude-code", "cursor"]
                    .map(String::from)
                    .into(),
                "{baseline:#?}"
            );

            for _ in 0..1000 {
                let name = names.next_name();
                call_as(Some(name)).await;
            }
            for _ in 0..1000 {
                let name = names.next_name();
                legacy_session(&options, &name).await;
            }
            modern.cancel().await.unwrap();
            serving.await.unwrap();

            let (after, clients) = series(&snapshotter);
            assert_eq!(after, baseline, "new series appeared");
            assert_eq!(clients.len(), 4);
            let sessions = after
                .iter()
                .filter(|k| k.starts_with("mcp_server_sessions_active{"))
                .count();
            assert_eq!(
                sessions, 3,
                "one sessions gauge per allowed name and _OTHER"
            );
        })
    });
}
