//! OTLP metrics over gRPC (feature `otlp-grpc`): the generated `MetricsService` client of
//! opentelemetry-proto on the channel the traces use (`client::grpc_channel`: the configured TLS
//! and timeout), with the configured headers as the metadata of every export and gzip when
//! configured. The channel needs a Tokio runtime, so it is made at the first export.

use std::sync::Mutex;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use prost::Message as _;
use tonic::codec::CompressionEncoding;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;

use crate::config::outbound::{Compression, Outbound};
use crate::config::vars;
use crate::error::ConfigError;

/// The gRPC transport of the OTLP sink.
#[derive(Debug)]
pub(crate) struct Grpc {
    endpoint: String,
    outbound: Outbound,
    client: Mutex<Option<MetricsServiceClient<Channel>>>,
}

impl Grpc {
    /// Checks the endpoint and the TLS settings; connects at the first export.
    pub(crate) fn new(endpoint: &str, outbound: &Outbound) -> Result<Self, ConfigError> {
        let variable = vars::OTLP_METRICS_ENDPOINT;
        tonic::transport::Endpoint::from_shared(endpoint.to_owned()).map_err(|e| {
            ConfigError::new(variable, endpoint, format!("not a gRPC endpoint: {e}"))
        })?;
        outbound.tls.rustls_config(&[]).map_err(|e| {
            ConfigError::new(
                variable,
                "",
                format!("cannot set up TLS with this configuration: {e}"),
            )
        })?;
        Ok(Self {
            endpoint: endpoint.to_owned(),
            outbound: outbound.clone(),
            client: Mutex::new(None),
        })
    }

    /// The client, made on first use (on the runtime of the export loop).
    fn client(&self) -> Result<MetricsServiceClient<Channel>, String> {
        let mut client = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = &*client {
            return Ok(c.clone());
        }
        let channel = crate::client::grpc_channel(
            vars::OTLP_METRICS_ENDPOINT,
            &self.endpoint,
            &self.outbound,
        )
        .map_err(|e| e.to_string())?;
        let mut made = MetricsServiceClient::new(channel);
        if self.outbound.compression == Compression::Gzip {
            made = made.send_compressed(CompressionEncoding::Gzip);
        }
        Ok(client.insert(made).clone())
    }

    /// Sends one export, `body` being its protobuf encoding.
    pub(crate) async fn send(&self, body: &[u8]) -> Result<(), String> {
        let message = ExportMetricsServiceRequest::decode(body).map_err(|e| e.to_string())?;
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = MetadataMap::from_headers(self.outbound.headers.clone());
        self.client()?
            .export(request)
            .await
            .map(drop)
            .map_err(|status| format!("gRPC {:?}: {}", status.code(), status.message()))
    }
}
