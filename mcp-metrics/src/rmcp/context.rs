//! What a request says about itself and its transport, from both protocol styles: the protocol
//! version and the client (per-request `_meta` on 2026-07-28, the `initialize` handshake on
//! earlier revisions), the HTTP request parts rmcp's streamable HTTP server puts in the request
//! context (session id, peer address, HTTP version, body size), and the client-name label.

use rmcp::Peer;
use rmcp::model::{Extensions, JsonObject, ProtocolVersion, TASKS_EXTENSION_ID};
use rmcp::service::{NotificationContext, RequestContext, RoleServer};
use std::net::SocketAddr;

/// `_meta` key of the protocol version on 2026-07-28.
const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of the client capabilities on 2026-07-28.
const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the client implementation on 2026-07-28.
const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
/// The `Mcp-Session-Id` header of legacy streamable HTTP sessions.
const SESSION_HEADER: &str = "mcp-session-id";
/// Longest client name or version kept for spans and audit events, in bytes.
const MAX_CLIENT_TEXT: usize = 128;
/// Longest normalised client name.
pub(crate) const MAX_CLIENT_NAME: usize = 64;

/// The client of a session, learnt from `initialize`.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionClient {
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
}

/// Where a request came from and over what, read before the request is handled: bounded values
/// and numbers only. The text a client sent (its name, version, the session id) is borrowed from
/// the context ([`Parts::client`], [`Parts::session_id`]) and copied only for an audit event.
#[derive(Debug, Default)]
pub(crate) struct RequestInfo {
    /// `mcp.protocol.version`, bounded (a known version or `_OTHER`).
    pub(crate) protocol_version: Option<&'static str>,
    /// Whether the request came over HTTP (`network.transport` = `tcp`), else a pipe.
    pub(crate) http: bool,
    /// `network.protocol.version` of the HTTP request.
    pub(crate) http_version: Option<&'static str>,
    /// The peer, when the server recorded it in the request extensions.
    pub(crate) peer: Option<SocketAddr>,
    /// `Content-Length` of the HTTP request body.
    pub(crate) body_bytes: Option<u64>,
}

/// The parts of a request or notification context that describe it.
pub(crate) struct Parts<'a> {
    pub(crate) meta: &'a JsonObject,
    pub(crate) extensions: &'a Extensions,
    pub(crate) peer: &'a Peer<RoleServer>,
}

impl<'a> Parts<'a> {
    pub(crate) fn of_request(context: &'a RequestContext<RoleServer>) -> Self {
        Parts {
            meta: &context.meta.0.0,
            extensions: &context.extensions,
            peer: &context.peer,
        }
    }

    pub(crate) fn of_notification(context: &'a NotificationContext<RoleServer>) -> Self {
        Parts {
            meta: &context.meta.0.0,
            extensions: &context.extensions,
            peer: &context.peer,
        }
    }

    /// The HTTP request parts, if the message came over rmcp's streamable HTTP server.
    pub(crate) fn http(&self) -> Option<&'a http::request::Parts> {
        self.extensions.get::<http::request::Parts>()
    }

    /// The protocol version comes from `_meta`, else from rmcp's record of the session (the
    /// negotiated version) or, for stateless legacy HTTP requests, of the
    /// `MCP-Protocol-Version` header.
    pub(crate) fn info(&self) -> RequestInfo {
        let protocol_version = match self
            .meta
            .get(META_PROTOCOL_VERSION)
            .and_then(|v| v.as_str())
        {
            Some(v) => Some(super::labels::protocol_version(v)),
            None => self
                .peer
                .peer_info()
                .map(|info| super::labels::protocol_version(info.protocol_version.as_str())),
        };
        let mut info = RequestInfo {
            protocol_version,
            ..RequestInfo::default()
        };
        if let Some(parts) = self.http() {
            info.http = true;
            info.http_version = http_version(parts.version);
            info.peer = peer_address(&parts.extensions);
            info.body_bytes = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok());
        }
        info
    }

    /// The client's name and version as sent, capped: from `_meta` on 2026-07-28, else from
    /// `initialize`.
    pub(crate) fn client<'s>(
        &self,
        session: &'s SessionClient,
    ) -> (Option<&'s str>, Option<&'s str>)
    where
        'a: 's,
    {
        match meta_client(self.meta) {
            Some(info) => {
                let text = |key| {
                    info.get(key)
                        .and_then(|v| v.as_str())
                        .map(|s| cap(s, MAX_CLIENT_TEXT))
                };
                (text("name"), text("version"))
            }
            None => (session.name.as_deref(), session.version.as_deref()),
        }
    }

    /// The `Mcp-Session-Id` of a legacy HTTP session, capped.
    pub(crate) fn session_id(&self) -> Option<&'a str> {
        self.http()?
            .headers
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|s| cap(s, MAX_CLIENT_TEXT))
    }
}

impl RequestInfo {
    /// Whether the request's protocol has `InputRequiredResult` (2026-07-28 and later); rmcp
    /// turns that result into an invalid-request error for older peers.
    pub(crate) fn has_input_required(&self) -> bool {
        self.protocol_version.is_some_and(|v| {
            v != crate::names::OTHER && v >= ProtocolVersion::V_2026_07_28.as_str()
        })
    }

    /// `network.transport`: `tcp` for HTTP, `pipe` for standard input and output.
    pub(crate) fn transport(&self) -> &'static str {
        if self.http { "tcp" } else { "pipe" }
    }
}

/// The `clientInfo` object of a 2026-07-28 `_meta`, without deserialising it.
fn meta_client(meta: &JsonObject) -> Option<&JsonObject> {
    meta.get(META_CLIENT_INFO)?.as_object()
}

/// Whether the client of a request declared the tasks extension: in the request's `_meta` on
/// 2026-07-28, else at `initialize`; as rmcp decides whether a created task may be returned.
pub(crate) fn client_supports_tasks(context: &RequestContext<RoleServer>) -> bool {
    match context.meta.0.0.get(META_CLIENT_CAPABILITIES) {
        Some(caps) => caps
            .get("extensions")
            .and_then(|e| e.as_object())
            .is_some_and(|e| e.contains_key(TASKS_EXTENSION_ID)),
        None => context
            .peer
            .peer_info()
            .is_some_and(|info| info.capabilities.supports_tasks()),
    }
}

/// The client of an `initialize` request.
pub(crate) fn session_client(request: &rmcp::model::InitializeRequestParams) -> SessionClient {
    SessionClient {
        name: Some(cap(&request.client_info.name, MAX_CLIENT_TEXT).to_owned()),
        version: Some(cap(&request.client_info.version, MAX_CLIENT_TEXT).to_owned()),
    }
}

fn http_version(version: http::Version) -> Option<&'static str> {
    Some(match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_11 => "1.1",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => return None,
    })
}

/// The peer address a server put in the request extensions: a `SocketAddr`, or axum's
/// `ConnectInfo<SocketAddr>` (feature `axum`).
fn peer_address(extensions: &http::Extensions) -> Option<SocketAddr> {
    if let Some(addr) = extensions.get::<SocketAddr>() {
        return Some(*addr);
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) =
        extensions.get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(*addr);
    }
    None
}

/// `s` cut to at most `max` bytes on a character boundary.
pub(crate) fn cap(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Normalises a client name for the `client_name` label: ASCII lowercase; `[a-z0-9._]` kept;
/// every run of other characters becomes one `-`, never at either end; at most 64 bytes.
///
/// ```
/// use mcp_metrics::rmcp::normalize_client_name;
/// assert_eq!(normalize_client_name("Claude Code"), "claude-code");
/// assert_eq!(normalize_client_name("  Visual Studio Code (Insiders) "), "visual-studio-code-insiders");
/// assert_eq!(normalize_client_name("mcp--inspector"), "mcp-inspector");
/// assert_eq!(normalize_client_name("ÆØÅ"), "");
/// ```
pub fn normalize_client_name(name: &str) -> String {
    let mut buf = NameBuf::default();
    buf.normalize(name).to_owned()
}

/// A fixed buffer for one normalised name, so that a request's name is compared with the
/// allow-list without allocating.
struct NameBuf {
    bytes: [u8; MAX_CLIENT_NAME + 1],
    len: usize,
}

impl Default for NameBuf {
    fn default() -> Self {
        NameBuf {
            bytes: [0; MAX_CLIENT_NAME + 1],
            len: 0,
        }
    }
}

impl NameBuf {
    fn normalize(&mut self, name: &str) -> &str {
        self.len = 0;
        let mut separator = false;
        for c in name.chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_' {
                if separator && self.len > 0 {
                    self.push(b'-');
                }
                separator = false;
                self.push(c as u8);
            } else {
                separator = true;
            }
            if self.len >= MAX_CLIENT_NAME {
                break;
            }
        }
        self.len = self.len.min(MAX_CLIENT_NAME);
        while self.len > 0 && self.bytes[self.len - 1] == b'-' {
            self.len -= 1;
        }
        // Only ASCII bytes were written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    fn push(&mut self, b: u8) {
        if self.len < self.bytes.len() {
            self.bytes[self.len] = b;
            self.len += 1;
        }
    }
}

/// The allow-list of client names, normalised, each kept as its label value.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientNames(Vec<&'static str>);

impl ClientNames {
    pub(crate) fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(names: I) -> Self {
        let mut list: Vec<&'static str> = names
            .into_iter()
            .map(|n| normalize_client_name(n.as_ref()))
            .filter(|n| !n.is_empty())
            .map(|n| crate::intern::intern(&n))
            .filter(|n| *n != crate::names::OTHER)
            .collect();
        list.sort_unstable();
        list.dedup();
        ClientNames(list)
    }

    /// The names, normalised.
    pub(crate) fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }

    /// The `client_name` label of a request from a client called `name`, without allocating.
    pub(crate) fn label(&self, name: Option<&str>) -> &'static str {
        let Some(name) = name else {
            return crate::names::UNKNOWN;
        };
        if self.0.is_empty() {
            return crate::names::OTHER;
        }
        let mut buf = NameBuf::default();
        let name = buf.normalize(name);
        self.0
            .iter()
            .copied()
            .find(|allowed| *allowed == name)
            .unwrap_or(crate::names::OTHER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        for (raw, want) in [
            ("Claude Code", "claude-code"),
            ("-claude--code-", "claude-code"),
            ("claude_code", "claude_code"),
            ("Cursor ", "cursor"),
            ("ÆØÅ cursor", "cursor"),
            ("", ""),
            ("   ", ""),
            ("\"},evil=\"1", "evil-1"),
        ] {
            assert_eq!(normalize_client_name(raw), want, "{raw:?}");
        }
        assert_eq!(normalize_client_name(&"a".repeat(100)), "a".repeat(64));
        let cut = normalize_client_name(&format!("{} tail", "b".repeat(63)));
        assert_eq!(cut, "b".repeat(63), "no dash at the cut");
    }

    #[test]
    fn labels_are_bounded() {
        let list = ClientNames::new(["Claude Code", "cursor", "cursor", ""]);
        assert_eq!(list.names().collect::<Vec<_>>(), ["claude-code", "cursor"]);
        assert_eq!(list.label(Some("claude code")), "claude-code");
        assert_eq!(list.label(Some("Cursor")), "cursor");
        assert_eq!(list.label(Some("cursor-evil")), "_OTHER");
        assert_eq!(list.label(Some("")), "_OTHER");
        assert_eq!(list.label(None), "_unknown");
        assert_eq!(ClientNames::default().label(Some("cursor")), "_OTHER");
    }

    #[test]
    fn cap_keeps_char_boundaries() {
        assert_eq!(cap("héllo", 2), "h");
        assert_eq!(cap("héllo", 3), "hé");
        assert_eq!(cap("abc", 10), "abc");
    }
}
