//! The variables of an OTLP signal, shared by OTLP metrics and traces: its endpoint, its protocol
//! and its connection ([`Outbound`]), each with a signal-specific variable (`…_METRICS_…`,
//! `…_TRACES_…`) that wins over the generic one, setting by setting, as the OpenTelemetry
//! specification defines. Also the two choices of the OTLP metrics exporter itself: the
//! temporality preference and the default histogram aggregation.

use crate::config::outbound::{Compression, Outbound, tls_files};
use crate::config::{Env, parse, vars};
use crate::error::ConfigError;

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Named only by the tracing pipeline's public API: a build with OTLP metrics alone keeps it
// inside the crate.
#[cfg_attr(not(feature = "telemetry"), allow(unreachable_pub))]
pub enum OtlpProtocol {
    /// Protobuf over HTTP, to `/v1/metrics` or `/v1/traces`.
    HttpProtobuf,
    /// gRPC (for traces, with the feature `telemetry-grpc`).
    Grpc,
}

/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`: which instrument kinds are exported with
/// delta temporality, as the OpenTelemetry OTLP metrics exporter specification defines.
///
/// | instrument (here) | `cumulative` | `delta` | `lowmemory` |
/// |---|---|---|---|
/// | counter (every counter here is incremented as events happen: a synchronous counter) | cumulative | delta | delta |
/// | histogram | cumulative | delta | delta |
/// | up-down counter (calls in flight, active sessions, tasks, subscriptions) | cumulative | cumulative | cumulative |
/// | gauge set to a value | (no temporality: the last value) | | |
///
/// The specification's one difference between `delta` and `lowmemory`, asynchronous counters
/// (cumulative under `lowmemory`), has no instrument in this exporter.
#[cfg(feature = "otlp")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Temporality {
    /// Every sum and histogram is cumulative: the default.
    #[default]
    Cumulative,
    /// Counters and histograms report what happened since the previous export.
    Delta,
    /// As `Delta` for the instruments of this exporter.
    LowMemory,
}

#[cfg(feature = "otlp")]
impl Temporality {
    const ALL: [(&'static str, Self); 3] = [
        ("cumulative", Self::Cumulative),
        ("delta", Self::Delta),
        ("lowmemory", Self::LowMemory),
    ];

    /// Whether monotonic counters and histograms are exported as deltas under this preference
    /// (up-down counters never are).
    pub(crate) fn delta(self) -> bool {
        self != Self::Cumulative
    }

    pub(crate) fn parse(variable: &str, value: &str) -> Result<Self, ConfigError> {
        parse::choice(variable, value, &Self::ALL)
    }
}

/// `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`: how histograms leave over OTLP.
#[cfg(feature = "otlp")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistogramAggregation {
    /// The configured bucket bounds, as `/metrics` shows them: the default.
    #[default]
    ExplicitBucket,
    /// Base-2 exponential buckets, at most 160 per sign, at the highest scale that fits them
    /// (at most 3: eight buckets per power of two). Histograms then also count their values in
    /// exponential buckets; `/metrics` keeps the explicit ones.
    Base2Exponential,
}

#[cfg(feature = "otlp")]
impl HistogramAggregation {
    const ALL: [(&'static str, Self); 2] = [
        ("explicit_bucket_histogram", Self::ExplicitBucket),
        ("base2_exponential_bucket_histogram", Self::Base2Exponential),
    ];

    pub(crate) fn parse(variable: &str, value: &str) -> Result<Self, ConfigError> {
        parse::choice(variable, value, &Self::ALL)
    }
}

/// The variables of one signal.
#[derive(Debug)]
pub(crate) struct Signal {
    /// The full URL of the signal's endpoint, used as is.
    pub(crate) endpoint: &'static str,
    /// The path appended to `OTEL_EXPORTER_OTLP_ENDPOINT` over HTTP.
    pub(crate) path: &'static str,
    pub(crate) protocol: &'static str,
    pub(crate) certificate: &'static str,
    pub(crate) client_certificate: &'static str,
    pub(crate) client_key: &'static str,
    pub(crate) headers: &'static str,
    pub(crate) timeout: &'static str,
    pub(crate) compression: &'static str,
}

/// The metrics signal.
#[cfg(feature = "otlp")]
pub(crate) const METRICS: Signal = Signal {
    endpoint: vars::OTLP_METRICS_ENDPOINT,
    path: "/v1/metrics",
    protocol: vars::OTLP_METRICS_PROTOCOL,
    certificate: vars::OTLP_METRICS_CERTIFICATE,
    client_certificate: vars::OTLP_METRICS_CLIENT_CERTIFICATE,
    client_key: vars::OTLP_METRICS_CLIENT_KEY,
    headers: vars::OTLP_METRICS_HEADERS,
    timeout: vars::OTLP_METRICS_TIMEOUT,
    compression: vars::OTLP_METRICS_COMPRESSION,
};

/// The traces signal.
#[cfg(feature = "telemetry")]
pub(crate) const TRACES: Signal = Signal {
    endpoint: vars::OTLP_TRACES_ENDPOINT,
    path: "/v1/traces",
    protocol: vars::OTLP_TRACES_PROTOCOL,
    certificate: vars::OTLP_TRACES_CERTIFICATE,
    client_certificate: vars::OTLP_TRACES_CLIENT_CERTIFICATE,
    client_key: vars::OTLP_TRACES_CLIENT_KEY,
    headers: vars::OTLP_TRACES_HEADERS,
    timeout: vars::OTLP_TRACES_TIMEOUT,
    compression: vars::OTLP_TRACES_COMPRESSION,
};

/// The logs signal.
#[cfg(feature = "telemetry")]
pub(crate) const LOGS: Signal = Signal {
    endpoint: vars::OTLP_LOGS_ENDPOINT,
    path: "/v1/logs",
    protocol: vars::OTLP_LOGS_PROTOCOL,
    certificate: vars::OTLP_LOGS_CERTIFICATE,
    client_certificate: vars::OTLP_LOGS_CLIENT_CERTIFICATE,
    client_key: vars::OTLP_LOGS_CLIENT_KEY,
    headers: vars::OTLP_LOGS_HEADERS,
    timeout: vars::OTLP_LOGS_TIMEOUT,
    compression: vars::OTLP_LOGS_COMPRESSION,
};

impl OtlpProtocol {
    /// The OpenTelemetry default endpoint of `signal` over this protocol.
    pub(crate) fn default_endpoint(self, signal: &Signal) -> String {
        match self {
            Self::HttpProtobuf => format!("http://localhost:4318{}", signal.path),
            Self::Grpc => "http://localhost:4317".to_owned(),
        }
    }
}

impl Signal {
    /// The protocol variable that is set, and its value.
    pub(crate) fn protocol(
        &self,
        env: &Env,
    ) -> Result<Option<(&'static str, OtlpProtocol)>, ConfigError> {
        let Some((var, value)) = env.pick(self.protocol, vars::OTLP_PROTOCOL) else {
            return Ok(None);
        };
        let protocols = [
            ("http/protobuf", OtlpProtocol::HttpProtobuf),
            ("grpc", OtlpProtocol::Grpc),
        ];
        Ok(Some((var, parse::choice(var, value, &protocols)?)))
    }

    /// The endpoint the variables set, for `protocol`: the signal's URL as it is, else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` with the signal's path appended over HTTP.
    pub(crate) fn endpoint(
        &self,
        env: &Env,
        protocol: OtlpProtocol,
    ) -> Result<Option<String>, ConfigError> {
        if let Some(full) = env.parsed(self.endpoint, parse::url)? {
            return Ok(Some(full.to_string()));
        }
        let Some(base) = env.parsed(vars::OTLP_ENDPOINT, parse::url)? else {
            return Ok(None);
        };
        let base = base.to_string();
        let base = base.trim_end_matches('/');
        Ok(Some(match protocol {
            OtlpProtocol::HttpProtobuf => format!("{base}{}", self.path),
            OtlpProtocol::Grpc => base.to_owned(),
        }))
    }

    /// Applies the connection variables (certificates, headers, timeout, compression) to
    /// `outbound`.
    pub(crate) fn outbound(
        &self,
        env: &Env,
        mut outbound: Outbound,
    ) -> Result<Outbound, ConfigError> {
        outbound.tls = tls_files(
            outbound.tls,
            env.pick(self.certificate, vars::OTLP_CERTIFICATE),
            env.pick(self.client_certificate, vars::OTLP_CLIENT_CERTIFICATE),
            env.pick(self.client_key, vars::OTLP_CLIENT_KEY),
        )?;
        if let Some((var, value)) = env.pick(self.headers, vars::OTLP_HEADERS) {
            outbound.set_headers(parse::header_list(var, value)?);
        }
        if let Some((var, value)) = env.pick(self.timeout, vars::OTLP_TIMEOUT) {
            outbound.timeout = parse::millis(var, value)?;
        }
        if let Some((var, value)) = env.pick(self.compression, vars::OTLP_COMPRESSION) {
            outbound.compression = Compression::parse(var, value)?;
        }
        Ok(outbound)
    }
}
