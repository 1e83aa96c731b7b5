//! Prometheus pull: an `axum` router serving `GET /metrics` (and, with the `ui` feature, the
//! live page under `/metrics/ui`) behind optional auth, and the standalone listener that serves
//! it ([`BackgroundTask::serve`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt as _;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, StatusCode};

use crate::auth::Auth;
use crate::error::Error;
use crate::registry::Registry;
use crate::render::Format;
use crate::task::BackgroundTask;

/// The path scrapes are served on.
pub const METRICS_PATH: &str = "/metrics";

/// A router serving `GET /metrics` (and `HEAD`) from `registry`, optionally behind `auth`.
///
/// With the `ui` feature it also serves the live page, `GET /metrics/ui`, and the JSON it
/// refreshes from, `GET /metrics/ui.json`, behind the same `auth`.
///
/// Other methods get `405 Method Not Allowed`. Merge it beside other routes, for example next
/// to rmcp's `StreamableHttpService` nested at `/mcp`; its layers apply to its own routes only.
pub fn router(registry: Registry, auth: Option<Auth>) -> Router {
    #[cfg(feature = "ui")]
    let page = crate::ui::routes(registry.clone());
    let router = Router::new()
        .route(METRICS_PATH, get(scrape))
        .with_state(registry);
    #[cfg(feature = "ui")]
    let router = router.merge(page);
    match auth {
        Some(auth) => router.route_layer(from_fn_with_state(Arc::new(auth), require_auth)),
        None => router,
    }
}

/// Answers 401 with a challenge to a request without the right credentials.
async fn require_auth(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    match auth.check(request.headers().get(AUTHORIZATION)) {
        Ok(()) => next.run(request).await,
        Err(denied) => {
            let headers = [(WWW_AUTHENTICATE, auth.challenge(denied))];
            (StatusCode::UNAUTHORIZED, headers, "unauthorized\n").into_response()
        }
    }
}

async fn scrape(State(registry): State<Registry>, headers: HeaderMap) -> Response {
    let format = Format::from_accept(headers.get(ACCEPT).and_then(|v| v.to_str().ok()));
    // Rendering many series is CPU work: keep it off the async workers.
    match tokio::task::spawn_blocking(move || registry.render(format)).await {
        Ok(body) => ([(CONTENT_TYPE, format.content_type())], body).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n").into_response(),
    }
}

impl BackgroundTask {
    /// Binds `addr` and serves `router` on a Tokio task: the standalone scrape listener.
    /// Accepted connections have `TCP_NODELAY` set, so a response's small writes are not held
    /// back until the scraper acknowledges the previous ones.
    ///
    /// # Errors
    ///
    /// [`Error::NoRuntime`] outside a Tokio runtime, [`Error::Bind`] when the address cannot
    /// be bound.
    pub(crate) fn serve(router: Router, addr: SocketAddr) -> Result<Self, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let bind_error = |source| Error::Bind { addr, source };
        let std_listener = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        std_listener.set_nonblocking(true).map_err(bind_error)?;
        let local = std_listener.local_addr().map_err(bind_error)?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(bind_error)?
        };
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY on a scrape connection");
            }
        });
        let task = Self::spawn(&runtime, "listener", Some(local), move |stop| async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(stop);
            if let Err(error) = served.await {
                tracing::error!(%error, "metrics listener stopped");
            }
        });
        tracing::info!(addr = %local, "serving metrics on http://{local}{METRICS_PATH}");
        #[cfg(feature = "ui")]
        tracing::info!(addr = %local, "live page on http://{local}{}", crate::ui::PAGE_PATH);
        Ok(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use base64::Engine as _;
    use http::{Method, Request};
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    type Headers<'a> = &'a [(&'a str, &'a str)];
    type Case<'a> = (Headers<'a>, StatusCode, Option<&'a str>);

    fn registry() -> Registry {
        let registry = Registry::default();
        metrics::with_local_recorder(&registry, || {
            metrics::counter!("scrapes_total").increment(3)
        });
        registry
    }

    async fn call(router: Router, method: Method, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::builder().method(method).uri(METRICS_PATH);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        router
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn body(response: Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn challenge(response: &Response) -> Option<String> {
        response
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    fn basic(creds: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(creds)
        )
    }

    #[tokio::test]
    async fn open_endpoint_serves_the_text_format() {
        let response = call(router(registry(), None), Method::GET, &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let text = body(response).await;
        assert!(text.contains("\nscrapes_total 3\n"), "{text}");
        assert!(!text.contains("# EOF"));
    }

    #[tokio::test]
    async fn openmetrics_is_served_when_accepted() {
        let accept =
            "application/openmetrics-text;version=1.0.0;q=0.6,text/plain;version=0.0.4;q=0.3";
        let response = call(router(registry(), None), Method::GET, &[("accept", accept)]).await;
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let text = body(response).await;
        assert!(
            text.contains("# TYPE scrapes counter\nscrapes_total 3\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[tokio::test]
    async fn other_methods_get_405() {
        for method in [Method::POST, Method::PUT, Method::DELETE] {
            let response = call(router(registry(), None), method, &[]).await;
            assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        }
    }

    #[tokio::test]
    async fn basic_auth_statuses_and_challenges() {
        let auth = Some(Auth::Basic {
            user: "prom".into(),
            password: "pw".into(),
        });
        let app = router(registry(), auth);
        let cases: [(Headers<'_>, StatusCode); 5] = [
            (&[], StatusCode::UNAUTHORIZED),
            (
                &[("authorization", &basic("prom:bad"))],
                StatusCode::UNAUTHORIZED,
            ),
            (
                &[("authorization", "Basic !!notbase64")],
                StatusCode::UNAUTHORIZED,
            ),
            (&[("authorization", "Bearer pw")], StatusCode::UNAUTHORIZED),
            (&[("authorization", &basic("prom:pw"))], StatusCode::OK),
        ];
        for (headers, status) in cases {
            let response = call(app.clone(), Method::GET, headers).await;
            assert_eq!(response.status(), status, "{headers:?}");
            if status == StatusCode::UNAUTHORIZED {
                assert_eq!(
                    challenge(&response).as_deref(),
                    Some("Basic realm=\"metrics\", charset=\"UTF-8\"")
                );
                assert!(!body(response).await.contains("scrapes_total"));
            } else {
                assert_eq!(challenge(&response), None);
                assert!(body(response).await.contains("scrapes_total 3"));
            }
        }
    }

    #[tokio::test]
    async fn bearer_auth_statuses_and_challenges() {
        let app = router(registry(), Some(Auth::Bearer("t0ken".into())));
        let cases: [Case<'_>; 4] = [
            (
                &[],
                StatusCode::UNAUTHORIZED,
                Some("Bearer realm=\"metrics\""),
            ),
            (
                &[("authorization", "Bearer nope")],
                StatusCode::UNAUTHORIZED,
                Some("Bearer realm=\"metrics\", error=\"invalid_token\""),
            ),
            (
                &[("authorization", "Bearer")],
                StatusCode::UNAUTHORIZED,
                Some("Bearer realm=\"metrics\", error=\"invalid_request\""),
            ),
            (&[("authorization", "Bearer t0ken")], StatusCode::OK, None),
        ];
        for (headers, status, expected) in cases {
            let response = call(app.clone(), Method::GET, headers).await;
            assert_eq!(response.status(), status, "{headers:?}");
            assert_eq!(challenge(&response).as_deref(), expected);
        }
    }

    #[tokio::test]
    async fn the_router_merges_beside_other_routes() {
        let app = Router::new()
            .route("/mcp", get(|| async { "mcp" }))
            .merge(router(registry(), Some(Auth::Bearer("t".into()))));
        let request = Request::builder().uri("/mcp").body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "auth must not leak onto other routes"
        );
        let response = call(app, Method::GET, &[]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn bind_errors_name_the_address() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = BackgroundTask::serve(router(registry(), None), addr).expect_err("port is taken");
        assert!(matches!(err, Error::Bind { .. }));
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }

    #[test]
    fn starting_outside_a_runtime_is_an_error() {
        let addr = "127.0.0.1:0".parse().unwrap();
        let err = BackgroundTask::serve(router(registry(), None), addr).expect_err("no runtime");
        assert!(matches!(err, Error::NoRuntime));
    }

    /// The `TCP_NODELAY` flag of this process's socket connected from `client` to `server`.
    #[cfg(target_os = "linux")]
    fn nodelay_of_accepted(server: SocketAddr, client: SocketAddr) -> Option<bool> {
        use std::os::fd::BorrowedFd;
        for entry in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
            let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            // SAFETY: only queried while this test holds every socket it opened; an fd closed
            // meanwhile makes the calls below fail, nothing worse.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            let socket = socket2::SockRef::from(&fd);
            let local = socket.local_addr().ok().and_then(|a| a.as_socket());
            let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
            if local == Some(server) && peer == Some(client) {
                return socket.tcp_nodelay().ok();
            }
        }
        None
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn accepted_scrape_connections_have_nodelay() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let server =
            BackgroundTask::serve(router(registry(), None), "127.0.0.1:0".parse().unwrap())
                .unwrap();
        let addr = server.local_addr().unwrap();
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let client_addr = client.local_addr().unwrap();
        // One full request makes sure the connection was accepted (and tapped).
        client
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 12];
        client.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        assert_eq!(nodelay_of_accepted(addr, client_addr), Some(true));
        server.shutdown().await;
    }
}
