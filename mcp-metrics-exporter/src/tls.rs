//! TLS of every outbound connection (push, OTLP metrics, OTLP traces over HTTP and gRPC): the
//! rustls crypto provider, [`TlsConfig`] (which server certificates to trust and which client
//! certificate to present, read and checked when it is set) and the rustls client configuration
//! built from it.
//!
//! The provider is the process's default rustls provider when the application installed one
//! (for example aws-lc-rs, for its post-quantum key exchange), else ring. ring builds without
//! aws-lc's C library; rustls 0.23.48 deprecates its constructor because ring has no
//! post-quantum key exchange, and [`ring`] is the one place that calls it.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::ConfigError;

/// The ring provider: rustls' cryptography without building aws-lc.
fn ring() -> CryptoProvider {
    // Deprecated since rustls 0.23.48 for its lack of post-quantum key exchange; still the
    // provider that keeps this crate free of aws-lc's C build (see the module docs).
    #[allow(deprecated)]
    rustls::crypto::ring::default_provider()
}

/// The provider of every TLS connection: the process's default if one is installed, else ring.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(ring()))
}

/// Makes ring the process's default rustls provider, unless the application installed one.
/// reqwest is built here without a provider of its own (to avoid aws-lc), and Cargo unifies that
/// choice with every other reqwest in the program: a client built elsewhere without a default
/// provider would panic. Called when an exporter or the tracing pipeline is built, at start-up.
pub(crate) fn install_default_provider() {
    if CryptoProvider::get_default().is_none() {
        // Fails only if another thread installed one meanwhile, which is as good.
        let _ = ring().install_default();
    }
}

#[derive(Clone)]
struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

/// How an exporter verifies the server and proves its own identity over TLS. One type for the
/// Pushgateway, OTLP metrics and OTLP traces (HTTP and gRPC).
///
/// By default the server certificate is checked against the platform's trust store (on Linux
/// the system CA bundle, honouring `SSL_CERT_FILE` and `SSL_CERT_DIR`). A CA bundle set with
/// [`TlsConfig::ca_certificate_file`] replaces those roots, as the OpenTelemetry SDKs do with
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`. A client certificate and key enable mutual TLS.
///
/// Every file is read and checked when it is set, so a bad path or PEM file is a
/// [`ConfigError`] at start-up.
#[derive(Clone, Default)]
pub struct TlsConfig {
    roots: Option<Vec<CertificateDer<'static>>>,
    identity: Option<ClientIdentity>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field(
                "roots",
                &match &self.roots {
                    Some(roots) => format!("{} CA certificate(s)", roots.len()),
                    None => "platform".to_owned(),
                },
            )
            .field("client_certificate", &self.identity.is_some())
            .finish()
    }
}

fn read_file(setting: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| {
        ConfigError::new(
            setting,
            &path.display().to_string(),
            format!("cannot read the file: {e}"),
        )
    })
}

fn parse_certificates(
    setting: &str,
    shown: &str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ConfigError::new(setting, shown, format!("not a PEM certificate file: {e}"))
        })?;
    if certs.is_empty() {
        return Err(ConfigError::new(
            setting,
            shown,
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file",
        ));
    }
    Ok(certs)
}

impl TlsConfig {
    /// The platform's trust store, no client certificate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts only the CA certificates in the PEM file at `path` (one or more certificates).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when the file cannot be read or holds no usable certificate.
    pub fn ca_certificate_file(self, path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        self.ca_file_for("ca_certificate", path.as_ref())
    }

    /// Trusts only the CA certificates in `pem`.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `pem` holds no usable certificate.
    pub fn ca_certificate_pem(self, pem: &[u8]) -> Result<Self, ConfigError> {
        self.ca_pem_for("ca_certificate", "<PEM>", pem)
    }

    /// Presents the certificate chain and private key in these PEM files (mutual TLS).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when a file cannot be read, holds no certificate or key, or the key
    /// does not belong to the certificate.
    pub fn client_identity_files(
        self,
        certificate: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, ConfigError> {
        self.identity_files_for(
            ("client_certificate", certificate.as_ref()),
            ("client_key", key.as_ref()),
        )
    }

    /// Presents the certificate chain and private key in `certificate` and `key` (PEM).
    ///
    /// # Errors
    ///
    /// As [`TlsConfig::client_identity_files`].
    pub fn client_identity_pem(self, certificate: &[u8], key: &[u8]) -> Result<Self, ConfigError> {
        self.identity_pem_for(
            ("client_certificate", "<PEM>", certificate),
            ("client_key", "<PEM>", key),
        )
    }

    /// Whether a CA bundle replaces the platform's roots.
    pub fn has_ca_certificates(&self) -> bool {
        self.roots.is_some()
    }

    /// Whether a client certificate is presented.
    pub fn has_client_identity(&self) -> bool {
        self.identity.is_some()
    }

    /// [`TlsConfig::ca_certificate_file`], with `setting` (a variable) named in errors.
    pub(crate) fn ca_file_for(self, setting: &str, path: &Path) -> Result<Self, ConfigError> {
        let pem = read_file(setting, path)?;
        self.ca_pem_for(setting, &path.display().to_string(), &pem)
    }

    fn ca_pem_for(mut self, setting: &str, shown: &str, pem: &[u8]) -> Result<Self, ConfigError> {
        let certs = parse_certificates(setting, shown, pem)?;
        let mut store = rustls::RootCertStore::empty();
        for cert in &certs {
            store.add(cert.clone()).map_err(|e| {
                ConfigError::new(setting, shown, format!("not a usable CA certificate: {e}"))
            })?;
        }
        self.roots = Some(certs);
        Ok(self)
    }

    /// [`TlsConfig::client_identity_files`], with the settings (variables) named in errors.
    pub(crate) fn identity_files_for(
        self,
        (cert_setting, cert_path): (&str, &Path),
        (key_setting, key_path): (&str, &Path),
    ) -> Result<Self, ConfigError> {
        let cert = read_file(cert_setting, cert_path)?;
        let key = read_file(key_setting, key_path)?;
        self.identity_pem_for(
            (cert_setting, &cert_path.display().to_string(), &cert),
            (key_setting, &key_path.display().to_string(), &key),
        )
    }

    fn identity_pem_for(
        mut self,
        (cert_setting, cert_shown, cert): (&str, &str, &[u8]),
        (key_setting, key_shown, key): (&str, &str, &[u8]),
    ) -> Result<Self, ConfigError> {
        let chain = parse_certificates(cert_setting, cert_shown, cert)?;
        // The key's bytes never go into an error: only its file name.
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
            ConfigError::new(
                key_setting,
                key_shown,
                format!("no usable PEM private key (PKCS#8, PKCS#1 or SEC1) in the file: {e}"),
            )
        })?;
        rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider()).map_err(
            |e| {
                ConfigError::new(
                    key_setting,
                    key_shown,
                    format!("the key does not fit the certificate in {cert_setting}: {e}"),
                )
            },
        )?;
        self.identity = Some(ClientIdentity {
            chain,
            key: Arc::new(key),
        });
        Ok(self)
    }

    /// The rustls configuration, offering `alpn` protocols.
    pub(crate) fn rustls_config(
        &self,
        alpn: &[&[u8]],
    ) -> Result<rustls::ClientConfig, rustls::Error> {
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?;
        let builder = match &self.roots {
            Some(certs) => {
                let mut store = rustls::RootCertStore::empty();
                for cert in certs {
                    store.add(cert.clone())?;
                }
                builder.with_root_certificates(store)
            }
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(
                    rustls_platform_verifier::Verifier::new(provider())?,
                )),
        };
        let mut config = match &self.identity {
            Some(identity) => {
                builder.with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())?
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_files_are_config_errors() {
        let dir = std::env::temp_dir().join(format!("mcp-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let err = TlsConfig::new()
            .ca_file_for("CA_VAR", &junk)
            .expect_err("junk");
        assert_eq!(err.variable, "CA_VAR");
        assert!(err.reason.contains("no PEM certificate"), "{err}");
        let missing = dir.join("missing.pem");
        let err = TlsConfig::new()
            .ca_file_for("CA_VAR", &missing)
            .expect_err("missing");
        assert!(err.reason.contains("cannot read"), "{err}");
        assert!(err.to_string().contains("missing.pem"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
