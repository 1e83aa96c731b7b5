//! Test PKI and HTTPS receivers on 127.0.0.1: a CA generated for the test (rcgen), a server
//! certificate for `127.0.0.1` and `localhost`, a client certificate for mutual TLS, and an axum
//! app served over rustls that records every request (headers and the body as it arrived) and
//! every failed handshake. Included with `#[path]` by the TLS test files.

#![allow(dead_code, unreachable_pub)]

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA with a server and a client certificate, written as PEM files into a temporary directory.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca_path: PathBuf,
    pub client_cert_path: PathBuf,
    pub client_key_path: PathBuf,
    /// A second CA that signed nothing here, for "wrong CA" cases.
    pub other_ca_path: PathBuf,
    ca_der: CertificateDer<'static>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key")).expect("CA")
}

impl Pki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = new_ca("mcp-metrics test CA");
        let other = new_ca("unrelated CA");

        let server_key = KeyPair::generate().expect("server key");
        let mut server = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("server params");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &ca).expect("server cert");

        let client_key = KeyPair::generate().expect("client key");
        let mut client = CertificateParams::new(Vec::<String>::new()).expect("client params");
        client
            .distinguished_name
            .push(DnType::CommonName, "mcp-metrics exporter");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &ca).expect("client cert");

        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write PEM");
            path
        };
        Pki {
            ca_path: write("ca.pem", &ca.pem()),
            other_ca_path: write("other-ca.pem", &other.pem()),
            client_cert_path: write("client.pem", &client_cert.pem()),
            client_key_path: write("client-key.pem", &client_key.serialize_pem()),
            ca_der: ca.der().clone(),
            server_chain: vec![server_cert.der().clone()],
            server_key: server_key.serialize_der(),
            dir,
        }
    }

    /// A file in the PKI directory with `text` in it (for malformed certificate files).
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// The server side: this PKI's certificate, HTTP/2 and HTTP/1.1 by ALPN, and client
    /// certificates from this CA required when `require_client_cert`.
    pub fn server_config(&self, require_client_cert: bool) -> rustls::ServerConfig {
        #[allow(deprecated)] // ring, the exporter's provider: rustls 0.23.48 deprecates it
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.ca_der.clone()).expect("CA root");
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        let mut config = builder
            .with_single_cert(self.server_chain.clone(), key)
            .expect("server cert and key");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        config
    }
}

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    /// The body as it arrived on the wire.
    pub raw: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, gunzipped when it arrived with `Content-Encoding: gzip`; panics when such a
    /// body is not gzip.
    pub fn body(&self) -> Vec<u8> {
        if self.header("content-encoding") == Some("gzip") {
            assert_eq!(
                &self.raw[..2],
                b"\x1f\x8b",
                "a gzip body starts with the gzip magic"
            );
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&self.raw[..])
                .read_to_end(&mut out)
                .expect("the body decodes as gzip");
            out
        } else {
            self.raw.to_vec()
        }
    }
}

/// What a receiver saw, shared with the test.
#[derive(Clone, Default)]
pub struct Seen {
    pub requests: Arc<Mutex<Vec<Received>>>,
    pub failed_handshakes: Arc<Mutex<Vec<String>>>,
    pub handshakes: Arc<Mutex<usize>>,
}

impl Seen {
    pub fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
    pub fn failed_handshakes(&self) -> Vec<String> {
        self.failed_handshakes.lock().unwrap().clone()
    }
}

/// An app that answers every request with an empty 200 (or `extra` routes first) and records it.
pub fn recording_app(seen: &Seen) -> Router {
    let requests = seen.requests.clone();
    Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, raw: Bytes| {
            let requests = requests.clone();
            async move {
                requests.lock().unwrap().push(Received {
                    method,
                    uri,
                    headers,
                    raw,
                });
                ""
            }
        },
    )
}

/// Serves `app` over TLS with `config` on 127.0.0.1 until the returned sender is dropped.
pub async fn serve_tls(
    config: rustls::ServerConfig,
    app: Router,
    seen: &Seen,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let seen = seen.clone();
    tokio::spawn(async move {
        loop {
            let tcp = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _)) => tcp,
                    Err(_) => continue,
                },
                _ = &mut stopped => return,
            };
            let (acceptor, app, seen) = (acceptor.clone(), app.clone(), seen.clone());
            tokio::spawn(async move {
                match acceptor.accept(tcp).await {
                    Ok(tls) => {
                        *seen.handshakes.lock().unwrap() += 1;
                        let service = hyper_util::service::TowerToHyperService::new(app);
                        let _ = hyper_util::server::conn::auto::Builder::new(
                            hyper_util::rt::TokioExecutor::new(),
                        )
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                    }
                    Err(e) => seen.failed_handshakes.lock().unwrap().push(e.to_string()),
                }
            });
        }
    });
    (addr, stop)
}

/// Log lines written through a `tracing` subscriber, captured in memory.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// A subscriber that writes plain-text lines (no colours) of level `INFO` and up here.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish()
    }

    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_owned)
            .collect()
    }
}
