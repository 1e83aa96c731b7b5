//! The live page (feature `ui`): `GET /metrics/ui`, a self-contained page with its script and
//! style on the same router, fed by `GET /metrics/ui.json`, which reads the few families the page
//! shows from the registry and compares them with the page's short history (see [`history`]).
//!
//! Rates and quantiles are computed here rather than in the browser: the first refresh already
//! has a window (since the start, or since the last look), every open page shares one history,
//! the arithmetic is Rust with unit tests, and the document is small and final, for a script as
//! much as for the page.

mod history;
mod quantile;
mod read;
mod report;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};

use self::history::History;
use self::read::{About, Index};
use self::report::Report;
use crate::registry::Registry;

/// The page.
pub(crate) const PAGE_PATH: &str = "/metrics/ui";
/// Its data.
pub(crate) const DATA_PATH: &str = "/metrics/ui.json";
const SCRIPT_PATH: &str = "/metrics/ui.js";
const STYLE_PATH: &str = "/metrics/ui.css";

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("page.js");
const STYLE: &str = include_str!("page.css");

/// Only the page's own script, style and data: nothing inline, nothing from elsewhere.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                      img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the page's handlers share.
#[derive(Debug)]
struct Live {
    registry: Registry,
    memory: Mutex<Memory>,
    /// The registry's creation, on the monotonic clock.
    started: Instant,
}

/// The routes of the page, its script, style and data over `registry`.
pub(crate) fn routes(registry: Registry) -> Router {
    let age = SystemTime::now()
        .duration_since(registry.start_time())
        .unwrap_or_default();
    let now = Instant::now();
    let started = now.checked_sub(age).unwrap_or(now);
    let live = Arc::new(Live {
        registry,
        memory: Mutex::new(Memory {
            index: Index::default(),
            history: History::new(started),
        }),
        started,
    });
    Router::new()
        .route(
            PAGE_PATH,
            get(|| asset("text/html; charset=utf-8", PAGE, true)),
        )
        .route(
            SCRIPT_PATH,
            get(|| asset("text/javascript; charset=utf-8", SCRIPT, false)),
        )
        .route(
            STYLE_PATH,
            get(|| asset("text/css; charset=utf-8", STYLE, false)),
        )
        .route(DATA_PATH, get(data))
        .with_state(live)
}

async fn asset(content_type: &'static str, body: &'static str, page: bool) -> Response {
    let headers = [
        (CONTENT_TYPE, content_type),
        (CACHE_CONTROL, "no-cache"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    if page {
        (headers, [(CONTENT_SECURITY_POLICY, POLICY)], body).into_response()
    } else {
        (headers, body).into_response()
    }
}

async fn data(State(live): State<Arc<Live>>) -> Response {
    // Reading many series is CPU work: keep it off the async workers, as a scrape does.
    match tokio::task::spawn_blocking(move || live.document()).await {
        Ok(Ok(body)) => {
            let headers = [
                (CONTENT_TYPE, "application/json"),
                (CACHE_CONTROL, "no-store"),
                (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ];
            (headers, body).into_response()
        }
        Ok(Err(error)) => failed(&error),
        Err(error) => failed(&error),
    }
}

fn failed(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "the live page's data could not be written");
    let body = "the live page's data could not be written\n";
    (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
}

/// What refreshes keep between them.
#[derive(Debug)]
struct Memory {
    index: Index,
    history: History,
}

impl Live {
    /// Reads the page's families, takes the baseline from the history and writes the document.
    fn document(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut memory = self.memory.lock().unwrap_or_else(PoisonError::into_inner);
        let about = {
            let state = self.registry.read();
            memory.index.update(&state);
            About::read(&state)
        };
        let now = Arc::new(memory.index.counts(Instant::now()));
        let base = memory.history.baseline(&now);
        let report = Report::build(&memory.index, &now, &base, about, self.started);
        drop(memory);
        serde_json::to_vec(&report)
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use base64::Engine as _;
    use http::header::WWW_AUTHENTICATE;
    use http::{Method, Request};
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;
    use crate::auth::Auth;
    use crate::http::router;

    fn registry() -> Registry {
        let registry = Registry::default();
        metrics::with_local_recorder(&registry, || {
            let tool = mcp_metrics::names::TOOL_DURATION_SECONDS;
            metrics::histogram!(tool, "tool" => "add", "outcome" => "success").record(0.002);
        });
        registry
    }

    async fn get(app: &Router, path: &str, authorization: Option<&str>) -> Response {
        let mut request = Request::builder().uri(path);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        app.clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn text(response: Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_page_its_script_and_style_are_served_with_a_strict_policy() {
        let app = router(registry(), None);
        let page = get(&app, PAGE_PATH, None).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(page.headers()[CONTENT_SECURITY_POLICY], POLICY);
        let html = text(page).await;
        assert!(
            html.contains(r#"<script src="ui.js" defer></script>"#),
            "{html}"
        );
        assert!(!html.contains("http"), "nothing from elsewhere");
        for (path, kind) in [(SCRIPT_PATH, "text/javascript"), (STYLE_PATH, "text/css")] {
            let response = get(&app, path, None).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert!(
                response.headers()[CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with(kind)
            );
            assert_eq!(response.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
        }
    }

    #[tokio::test]
    async fn the_data_is_json_read_from_the_registry() {
        let app = router(registry(), None);
        let response = get(&app, DATA_PATH, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        let data: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
        assert_eq!(data["tools"][0]["tool"], "add");
        assert_eq!(data["tools"][0]["calls"], 1);
        assert_eq!(data["window_from_start"], true);
        assert!(data["tools"][0]["p99"].as_f64().unwrap() <= 0.005);
    }

    #[tokio::test]
    async fn every_route_of_the_page_needs_the_scrape_credentials() {
        let auth = Auth::Basic {
            user: "prom".into(),
            password: "pw".into(),
        };
        let app = router(registry(), Some(auth));
        let basic = |creds: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(creds)
            )
        };
        for path in [PAGE_PATH, SCRIPT_PATH, STYLE_PATH, DATA_PATH] {
            for wrong in [None, Some(basic("prom:nope")), Some("Bearer pw".to_owned())] {
                let response = get(&app, path, wrong.as_deref()).await;
                assert_eq!(
                    response.status(),
                    StatusCode::UNAUTHORIZED,
                    "{path} {wrong:?}"
                );
                assert!(
                    response.headers()[WWW_AUTHENTICATE]
                        .to_str()
                        .unwrap()
                        .starts_with("Basic")
                );
                assert_eq!(text(response).await, "unauthorized\n");
            }
            let response = get(&app, path, Some(&basic("prom:pw"))).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
        }
    }

    #[tokio::test]
    async fn other_methods_get_405() {
        let app = router(registry(), None);
        let request = Request::builder()
            .method(Method::POST)
            .uri(DATA_PATH)
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
