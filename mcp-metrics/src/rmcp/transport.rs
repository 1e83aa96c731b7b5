//! The HTTP side of the MCP endpoint: [`TransportLayer`], a tower layer around rmcp's
//! `StreamableHttpService`, owns `http_server_request_duration_seconds` (every HTTP request, as
//! the OpenTelemetry HTTP conventions define `http.server.request.duration`) and
//! `mcp_server_refused_requests_total` (what rmcp's transport answers itself before any handler
//! runs, by [`Refusal`]).
//!
//! A refusal is read from the response, never from the request: its status code, whether it is
//! JSON, and the first bytes of its first body frame, which rmcp writes in one piece. Only
//! responses with a status of 400 or more are looked at; successful streams pass through
//! untouched and nothing is buffered.

use http::{Method, Request, Response};
use http_body::{Body, Frame, SizeHint};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Why rmcp's streamable HTTP transport answered a request itself, before any handler: the
/// `refusal_reason` label of `mcp_server_refused_requests_total`.
///
/// Told from the status code and the first bytes of rmcp's answer (see [`TransportLayer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// `403`, or `400` for a missing or malformed `Host`: the DNS-rebinding protection refused
    /// the `Host` header (`StreamableHttpServerConfig::allowed_hosts`).
    HostNotAllowed,
    /// `403`: the `Origin` header is not allowed (`StreamableHttpServerConfig::allowed_origins`).
    OriginNotAllowed,
    /// `413`: the body is larger than `max_request_body_bytes`.
    BodyTooLarge,
    /// `415` for a body that is not a JSON-RPC message, or `400` with `-32600` for a JSON-RPC
    /// response sent to a stateless server.
    ParseError,
    /// `400`: an unknown `MCP-Protocol-Version`, one that contradicts the body, or missing
    /// per-request protocol metadata (`-32022`, `-32602`, `-32600`, `-32020` naming the version).
    BadProtocolVersion,
    /// `400` with `-32020`: an `Mcp-Method`, `Mcp-Name` or `Mcp-Param-*` header that contradicts
    /// the body.
    HeaderMismatch,
    /// `415`: the `Content-Type` is not `application/json`.
    UnsupportedMediaType,
    /// `406`: the `Accept` header does not take what the endpoint answers with.
    NotAcceptable,
    /// `404` for a session rmcp does not hold, or `400` for a request that needs a session and
    /// names none.
    UnknownSession,
    /// `405`: a method the endpoint does not serve in its mode.
    MethodNotAllowed,
    /// Any other error status the transport (or a layer inside this one) answered with.
    Other,
}

impl Refusal {
    /// Every value, in the order they are documented.
    pub const ALL: [Refusal; 11] = [
        Refusal::HostNotAllowed,
        Refusal::OriginNotAllowed,
        Refusal::BodyTooLarge,
        Refusal::ParseError,
        Refusal::BadProtocolVersion,
        Refusal::HeaderMismatch,
        Refusal::UnsupportedMediaType,
        Refusal::NotAcceptable,
        Refusal::UnknownSession,
        Refusal::MethodNotAllowed,
        Refusal::Other,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::HostNotAllowed => "host_not_allowed",
            Refusal::OriginNotAllowed => "origin_not_allowed",
            Refusal::BodyTooLarge => "body_too_large",
            Refusal::ParseError => "parse_error",
            Refusal::BadProtocolVersion => "bad_protocol_version",
            Refusal::HeaderMismatch => "header_mismatch",
            Refusal::UnsupportedMediaType => "unsupported_media_type",
            Refusal::NotAcceptable => "not_acceptable",
            Refusal::UnknownSession => "unknown_session",
            Refusal::MethodNotAllowed => "method_not_allowed",
            Refusal::Other => crate::names::OTHER,
        }
    }

    /// How rmcp's transport refused a request, from its answer: `status`, whether the body is
    /// JSON (`Content-Type: application/json`), and the first bytes of the body. `None` for an
    /// answer that is not a refusal: a success, or a JSON-RPC error that is an MCP answer
    /// (`-32601` method not found, `-32021` missing client capability), which handlers give too.
    pub fn classify(status: u16, json: bool, body: &[u8]) -> Option<Refusal> {
        if status < 400 {
            return None;
        }
        if json {
            return Self::jsonrpc(status, body);
        }
        let by_status = match status {
            405 => Some(Refusal::MethodNotAllowed),
            406 => Some(Refusal::NotAcceptable),
            413 => Some(Refusal::BodyTooLarge),
            _ => None,
        };
        let by_text = || {
            TEXTS
                .iter()
                .find(|(s, prefix, _)| *s == status && body.starts_with(prefix.as_bytes()))
                .map(|(_, _, refusal)| *refusal)
        };
        Some(by_status.or_else(by_text).unwrap_or(Refusal::Other))
    }

    /// A JSON-RPC error the transport (or rmcp's dispatch, before the handler) answered with a
    /// 4xx status: read from its `code` and whether its message names the protocol version.
    fn jsonrpc(status: u16, body: &[u8]) -> Option<Refusal> {
        /// How far into the body the message is searched: rmcp's messages name the version
        /// early, and a message quoting a client's header may be long.
        const SCANNED: usize = 512;
        let body = &body[..body.len().min(SCANNED)];
        let names_version = find(body, MESSAGES[0].as_bytes()).is_some();
        match (status, error_code(body)?) {
            (400, -32600) if names_version => Some(Refusal::BadProtocolVersion),
            (400, -32600) => Some(Refusal::ParseError),
            (400, -32020) if names_version => Some(Refusal::BadProtocolVersion),
            (400, -32020) => Some(Refusal::HeaderMismatch),
            (400, -32022 | -32602) => Some(Refusal::BadProtocolVersion),
            _ => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The plain-text answers of rmcp's transport, by status and the start of their text.
const TEXTS: &[(u16, &str, Refusal)] = &[
    (400, "Bad Request: Invalid Host", Refusal::HostNotAllowed),
    (400, "Bad Request: missing Host", Refusal::HostNotAllowed),
    (
        400,
        "Bad Request: Invalid MCP-Protocol-Version",
        Refusal::BadProtocolVersion,
    ),
    (
        400,
        "Bad Request: Unsupported MCP-Protocol-Version",
        Refusal::BadProtocolVersion,
    ),
    (
        400,
        "Bad Request: Session ID is required",
        Refusal::UnknownSession,
    ),
    (403, "Forbidden: Host", Refusal::HostNotAllowed),
    (403, "Forbidden: Origin", Refusal::OriginNotAllowed),
    (403, "Forbidden: Invalid Origin", Refusal::OriginNotAllowed),
    (404, "Not Found: Session not found", Refusal::UnknownSession),
    (415, "Unsupported Media Type", Refusal::UnsupportedMediaType),
    (415, "fail to deserialize", Refusal::ParseError),
];

/// The messages of rmcp's JSON-RPC refusals that the classification tells apart by text.
const MESSAGES: [&str; 2] = ["MCP-Protocol-Version", "does not accept JSON-RPC responses"];

/// The `error.code` of a JSON-RPC error body: the integer after its first `"code":`.
fn error_code(body: &[u8]) -> Option<i64> {
    let at = find(body, b"\"code\":")? + b"\"code\":".len();
    let rest = body[at..].trim_ascii_start();
    let (negative, digits) = match rest.split_first() {
        Some((b'-', digits)) => (true, digits),
        _ => (false, rest),
    };
    let end = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    let value: i64 = std::str::from_utf8(&digits[..end.min(18)])
        .ok()?
        .parse()
        .ok()?;
    Some(if negative { -value } else { value })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The request methods the OpenTelemetry HTTP conventions know by default: those of RFC 9110 and
/// `PATCH`; the ones MCP uses first.
const KNOWN_METHODS: [&str; 9] = [
    "POST", "GET", "DELETE", "HEAD", "OPTIONS", "PUT", "PATCH", "CONNECT", "TRACE",
];

/// A tower [`Layer`](tower_layer::Layer) for the route of rmcp's `StreamableHttpService`: it
/// records every HTTP request in `http_server_request_duration_seconds` and every request the
/// transport refuses before any handler in `mcp_server_refused_requests_total{refusal_reason}`.
///
/// ```no_run
/// # #[derive(Clone)] struct Tools;
/// # impl rmcp::ServerHandler for Tools {}
/// use mcp_metrics::rmcp::{Instrumented, InstrumentedSessions, TransportLayer};
/// use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
/// use std::sync::Arc;
/// use tower_layer::Layer as _;
///
/// let mcp = StreamableHttpService::new(
///     || Ok(Instrumented::new(Tools)),
///     Arc::new(InstrumentedSessions::default()),
///     StreamableHttpServerConfig::default(),
/// );
/// let app: axum::Router = axum::Router::new().nest_service("/mcp", TransportLayer::new("/mcp").layer(mcp));
/// ```
///
/// # What it records
///
/// - `http_server_request_duration_seconds{http_request_method, http_response_status_code,
///   http_route}` (OTLP `http.server.request.duration` with `http.request.method`,
///   `http.response.status_code`, `http.route`): from the moment the request reaches the layer
///   until the response body ends or is dropped, so an answer streamed over server-sent events
///   counts until its last event (a `GET` stream lives as long as the client listens). The
///   method is one of the methods of RFC 9110 and `PATCH`, else `_OTHER` (change the list with
///   [`TransportLayer::known_methods`]); the route is the one given here. A request whose client
///   went away before the response started has no status code.
/// - `mcp_server_refused_requests_total{refusal_reason, http_route}`: one per response that
///   [`Refusal::classify`] calls a refusal, every reason registered at 0 when the layer is built
///   so that `rate()` sees the first one.
///
/// Nothing of the request (headers, body, host, session id) becomes a label: the method is
/// mapped to a bounded set, and the reason is read from rmcp's own answer.
#[derive(Clone)]
pub struct TransportLayer {
    route: &'static str,
    methods: Arc<[&'static str]>,
}

impl fmt::Debug for TransportLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportLayer")
            .field("route", &self.route)
            .field("methods", &self.methods)
            .finish()
    }
}

impl TransportLayer {
    /// A layer for the endpoint mounted on `route` (the `http_route` label, such as `/mcp`).
    pub fn new(route: &str) -> Self {
        let layer = TransportLayer {
            route: crate::intern::intern(route),
            methods: KNOWN_METHODS.into(),
        };
        #[cfg(feature = "metrics")]
        instruments::register_refusals(layer.route);
        layer
    }

    /// Replaces the request methods recorded under their own name (by default those of RFC 9110
    /// and `PATCH`); any other is `_OTHER`. Methods are case-sensitive, as the OpenTelemetry
    /// conventions require (`OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS` is the variable they name
    /// for such a list).
    ///
    /// # Errors
    ///
    /// A name that is not an HTTP method token.
    pub fn known_methods<I, S>(mut self, methods: I) -> Result<Self, http::method::InvalidMethod>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut known = Vec::new();
        for method in methods {
            let method = method.as_ref();
            Method::from_bytes(method.as_bytes())?;
            known.push(crate::intern::intern(method));
        }
        self.methods = known.into();
        Ok(self)
    }

    /// The `http_request_method` label of `method`.
    fn method(&self, method: &Method) -> &'static str {
        let name = method.as_str();
        self.methods
            .iter()
            .find(|known| **known == name)
            .copied()
            .unwrap_or(crate::names::OTHER)
    }
}

impl<S> tower_layer::Layer<S> for TransportLayer {
    type Service = TransportService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TransportService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`TransportLayer`] wraps around the MCP endpoint.
#[derive(Clone, Debug)]
pub struct TransportService<S> {
    inner: S,
    layer: TransportLayer,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for TransportService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body,
{
    type Response = Response<TransportBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let exchange = Exchange::start(self.layer.method(request.method()), self.layer.route);
        ResponseFuture {
            inner: self.inner.call(request),
            exchange: Some(exchange),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`TransportService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        exchange: Option<Exchange>,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<TransportBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        let mut exchange = this
            .exchange
            .take()
            .expect("ResponseFuture polled after completion");
        exchange.responded(&response);
        Poll::Ready(Ok(response.map(|inner| TransportBody { inner, exchange })))
    }
}

pin_project_lite::pin_project! {
    /// The response body of [`TransportService`]: the endpoint's body, unchanged. The request is
    /// recorded when it ends or is dropped.
    pub struct TransportBody<B> {
        #[pin]
        inner: B,
        exchange: Exchange,
    }
}

impl<B: Body> Body for TransportBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.inner.poll_frame(cx));
        if let Some(Ok(frame)) = &frame
            && let Some(data) = frame.data_ref()
        {
            this.exchange.first_bytes(bytes::Buf::chunk(data));
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> fmt::Debug for TransportBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportBody").finish_non_exhaustive()
    }
}

/// One HTTP request through the layer, recorded when it is dropped: with the body once a
/// response started, else with the future (the client went away, or the endpoint failed).
struct Exchange {
    #[cfg(feature = "metrics")]
    start: crate::record::Start,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    method: &'static str,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    route: &'static str,
    /// The status code once the response started, 0 before.
    status: u16,
    /// An error status whose refusal is not classified yet: whether its body is JSON.
    unclassified: Option<bool>,
}

impl Exchange {
    #[inline]
    fn start(method: &'static str, route: &'static str) -> Self {
        Exchange {
            #[cfg(feature = "metrics")]
            start: crate::record::Start::now(),
            method,
            route,
            status: 0,
            unclassified: None,
        }
    }

    /// The response started: its status, and whether it may be a refusal.
    #[inline]
    fn responded<B>(&mut self, response: &Response<B>) {
        self.status = response.status().as_u16();
        if self.status >= 400 {
            let json = response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            self.unclassified = Some(json);
        }
    }

    /// The first bytes of the body: a refusal not classified yet is, now.
    #[inline]
    fn first_bytes(&mut self, bytes: &[u8]) {
        if let Some(json) = self.unclassified.take() {
            self.refused(Refusal::classify(self.status, json, bytes));
        }
    }

    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    fn refused(&self, refusal: Option<Refusal>) {
        #[cfg(feature = "metrics")]
        if let Some(refusal) = refusal {
            instruments::refused(refusal, self.route);
        }
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        // An error answer whose body never showed a byte (empty, or dropped unread).
        self.first_bytes(&[]);
        #[cfg(feature = "metrics")]
        instruments::request(self.method, self.status, self.route, self.start);
    }
}

#[cfg(feature = "metrics")]
mod instruments {
    use super::Refusal;
    use crate::catalog::{self, label};
    use crate::record::{CounterHandle, Family, HistogramHandle, LabelKey, Start, Str};
    use metrics::Label;

    /// The labels of one HTTP request: method, status code (0 for none) and route.
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    pub(super) struct Request(Str, u16, Str);

    impl LabelKey for Request {
        fn labels(&self) -> Vec<Label> {
            let mut labels = vec![Label::from_static_parts(
                label::HTTP_REQUEST_METHOD,
                self.0.0,
            )];
            if self.1 != 0 {
                labels.push(Label::new(
                    label::HTTP_RESPONSE_STATUS_CODE,
                    self.1.to_string(),
                ));
            }
            labels.push(Label::from_static_parts(label::HTTP_ROUTE, self.2.0));
            labels
        }
    }

    /// The labels of a refusal: reason and route.
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    pub(super) struct Refused(Str, Str);

    impl LabelKey for Refused {
        fn labels(&self) -> Vec<Label> {
            crate::record::family::labels([
                (label::REFUSAL_REASON, Some(self.0)),
                (label::HTTP_ROUTE, Some(self.1)),
            ])
        }
    }

    static DURATION: Family<Request, HistogramHandle> =
        Family::new(&catalog::HTTP_SERVER_REQUEST_DURATION);
    static REFUSED: Family<Refused, CounterHandle> = Family::new(&catalog::SERVER_REFUSED_REQUESTS);

    #[inline]
    pub(super) fn request(method: &'static str, status: u16, route: &'static str, start: Start) {
        let (seconds, _) = start.elapsed();
        DURATION.with(Request(Str(method), status, Str(route)), |h| {
            h.record_plain(seconds)
        });
    }

    pub(super) fn refused(refusal: Refusal, route: &'static str) {
        REFUSED.with(Refused(Str(refusal.as_str()), Str(route)), |c| c.add(1));
    }

    /// Every reason of `route` at 0.
    pub(super) fn register_refusals(route: &'static str) {
        for refusal in Refusal::ALL {
            REFUSED.with(Refused(Str(refusal.as_str()), Str(route)), |c| c.add(0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Refusal::{self, *};

    /// The answers of rmcp's transport, as it writes them, and how they are read.
    const ANSWERS: &[(u16, bool, &str, Option<Refusal>)] = &[
        (200, false, "data: {}", None),
        (202, false, "", None),
        (
            403,
            false,
            "Forbidden: Host header is not allowed",
            Some(HostNotAllowed),
        ),
        (
            400,
            false,
            "Bad Request: Invalid Host header",
            Some(HostNotAllowed),
        ),
        (
            400,
            false,
            "Bad Request: Invalid Host header encoding",
            Some(HostNotAllowed),
        ),
        (
            400,
            false,
            "Bad Request: missing Host header",
            Some(HostNotAllowed),
        ),
        (
            403,
            false,
            "Forbidden: Origin header is not allowed",
            Some(OriginNotAllowed),
        ),
        (
            403,
            false,
            "Forbidden: Invalid Origin header",
            Some(OriginNotAllowed),
        ),
        (
            403,
            false,
            "Forbidden: Invalid Origin header encoding",
            Some(OriginNotAllowed),
        ),
        (
            413,
            false,
            "Payload Too Large: request body exceeds 4194304 bytes",
            Some(BodyTooLarge),
        ),
        (
            415,
            false,
            "fail to deserialize request body expected value at line 1",
            Some(ParseError),
        ),
        (
            415,
            false,
            "Unsupported Media Type: Content-Type must be application/json",
            Some(UnsupportedMediaType),
        ),
        (
            406,
            false,
            "Not Acceptable: Client must accept text/event-stream",
            Some(NotAcceptable),
        ),
        (
            406,
            false,
            "Not Acceptable: Client must accept both application/json and text/event-stream",
            Some(NotAcceptable),
        ),
        (
            404,
            false,
            "Not Found: Session not found",
            Some(UnknownSession),
        ),
        (
            400,
            false,
            "Bad Request: Session ID is required",
            Some(UnknownSession),
        ),
        (405, false, "Method Not Allowed", Some(MethodNotAllowed)),
        (
            400,
            false,
            "Bad Request: Unsupported MCP-Protocol-Version: 1999-01-01",
            Some(BadProtocolVersion),
        ),
        (
            400,
            false,
            "Bad Request: Invalid MCP-Protocol-Version header encoding",
            Some(BadProtocolVersion),
        ),
        (
            500,
            false,
            "Encounter an error when create session: boom",
            Some(Other),
        ),
        (
            500,
            false,
            "Failed to read request body: reset",
            Some(Other),
        ),
        (401, false, "", Some(Other)),
        (
            400,
            true,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"Invalid Request: MCP-Protocol-Version header (2025-06-18) does not match initialize params.protocolVersion (2025-03-26)"}}"#,
            Some(BadProtocolVersion),
        ),
        (
            400,
            true,
            r#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"stateless server does not accept JSON-RPC responses"}}"#,
            Some(ParseError),
        ),
        (
            400,
            true,
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32020,"message":"request _meta protocolVersion requires MCP-Protocol-Version header"}}"#,
            Some(BadProtocolVersion),
        ),
        (
            400,
            true,
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32020,"message":"Mcp-Method header `tools/list` does not match body method `tools/call`"}}"#,
            Some(HeaderMismatch),
        ),
        (
            400,
            true,
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"Invalid params: request _meta is missing or has malformed required fields: io.modelcontextprotocol/clientInfo"}}"#,
            Some(BadProtocolVersion),
        ),
        (
            400,
            true,
            r#"{"jsonrpc":"2.0","id":2,"error":{"code": -32022,"message":"Unsupported protocol version"}}"#,
            Some(BadProtocolVersion),
        ),
        // MCP answers a handler gives as well: not the transport's.
        (
            404,
            true,
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found"}}"#,
            None,
        ),
        (
            400,
            true,
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32021,"message":"Missing required client capability"}}"#,
            None,
        ),
        (400, true, "not json at all", None),
    ];

    #[test]
    fn refusals_are_read_from_the_answer() {
        for (status, json, body, want) in ANSWERS {
            assert_eq!(
                Refusal::classify(*status, *json, body.as_bytes()),
                *want,
                "{status} {body}"
            );
        }
    }

    #[test]
    fn label_values_are_distinct_and_bounded() {
        let mut values: Vec<&str> = Refusal::ALL.iter().map(|r| r.as_str()).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), Refusal::ALL.len());
        assert!(values.contains(&"_OTHER"));
    }

    /// Every text the classification looks for is one rmcp's transport writes: an rmcp that
    /// rewords an answer fails here rather than counting it as `_OTHER` unnoticed.
    #[test]
    fn the_texts_read_are_rmcps() {
        let source = [
            "src/transport/streamable_http_server/tower.rs",
            "src/transport/common/server_side_http.rs",
        ]
        .map(super::super::tests::rmcp_source)
        .join("\n");
        let texts = super::TEXTS.iter().map(|(_, text, _)| *text);
        for text in texts.chain(super::MESSAGES) {
            assert!(source.contains(text), "rmcp no longer writes {text:?}");
        }
    }

    #[test]
    fn methods_are_bounded() {
        let layer = super::TransportLayer::new("/mcp");
        assert_eq!(layer.method(&http::Method::POST), "POST");
        assert_eq!(layer.method(&http::Method::PATCH), "PATCH");
        let propfind = http::Method::from_bytes(b"PROPFIND").unwrap();
        assert_eq!(layer.method(&propfind), "_OTHER");
        let layer = layer.known_methods(["GET", "POST", "PROPFIND"]).unwrap();
        assert_eq!(layer.method(&propfind), "PROPFIND");
        assert_eq!(layer.method(&http::Method::DELETE), "_OTHER");
        assert!(
            super::TransportLayer::new("/mcp")
                .known_methods(["GET POST"])
                .is_err()
        );
    }
}
