//! Where the tracing pipeline's log records go: [`LogsExporter`] as `OTEL_LOGS_EXPORTER` names it.
//! The rest of their configuration (OTLP endpoint, protocol and connection with the
//! `OTEL_EXPORTER_OTLP_[LOGS_]…` variables, the batch log record processor with `OTEL_BLRP_*`) is
//! an [`ExportSettings`](super::export::ExportSettings) held by the pipeline's settings.

use crate::config::export::ExporterKind;
use crate::config::vars;

/// Where the log records of `tracing` events go, besides the logs on standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogsExporter {
    /// OTLP to a collector.
    Otlp,
    /// Printed to standard output (`console`), for development (not for stdio MCP servers).
    Stdout,
    /// Nowhere: events are only written to standard error.
    None,
}

impl ExporterKind for LogsExporter {
    const VARIABLE: &'static str = vars::OTEL_LOGS_EXPORTER;
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("otlp", Self::Otlp),
        ("console", Self::Stdout),
        ("none", Self::None),
    ];
    const OTLP: Self = Self::Otlp;
    const NONE: Self = Self::None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::otlp::OtlpProtocol;
    use crate::config::traces::{TracesExporter, settings};
    use std::time::Duration;

    #[test]
    fn an_endpoint_for_logs_chooses_otlp_as_for_traces() {
        let none = settings(&[]).unwrap();
        assert_eq!(none.logs.exporter, LogsExporter::None);
        let generic = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")]).unwrap();
        assert_eq!(generic.logs.exporter, LogsExporter::Otlp);
        assert_eq!(generic.logs.otlp_endpoint(), "http://c:4318/v1/logs");
        assert_eq!(generic.spans.otlp_endpoint(), "http://c:4318/v1/traces");
        // A logs endpoint chooses OTLP for logs only.
        let logs = settings(&[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://c:9/logs")]).unwrap();
        assert_eq!(logs.logs.exporter, LogsExporter::Otlp);
        assert_eq!(logs.logs.otlp_endpoint(), "http://c:9/logs");
        assert_eq!(logs.spans.exporter, TracesExporter::None);
        // The exporter variable wins over an endpoint; the default endpoint follows the protocol.
        let off = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ])
        .unwrap();
        assert_eq!(off.logs.exporter, LogsExporter::None);
        assert_eq!(off.spans.exporter, TracesExporter::Otlp);
        let grpc = settings(&[
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"),
        ])
        .unwrap();
        assert_eq!(grpc.logs.protocol, OtlpProtocol::Grpc);
        assert_eq!(grpc.logs.otlp_endpoint(), "http://localhost:4317");
        assert_eq!(grpc.spans.protocol, OtlpProtocol::HttpProtobuf);
        let console = settings(&[("OTEL_LOGS_EXPORTER", "Console")]).unwrap();
        assert_eq!(console.logs.exporter, LogsExporter::Stdout);
    }

    #[test]
    fn connection_variables_of_logs_win_over_the_generic_ones() {
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=generic"),
            ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "api-key=logs,x-team=obs"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "gzip"),
        ])
        .unwrap();
        let (logs, spans) = (&s.logs.outbound, &s.spans.outbound);
        assert_eq!(logs.header_names(), ["api-key", "x-team"]);
        assert_eq!(logs.headers["api-key"], "logs");
        assert_eq!(spans.headers["api-key"], "generic");
        assert_eq!(logs.timeout, Duration::from_millis(2500));
        assert_eq!(spans.timeout, Duration::from_millis(2500));
        assert_eq!(logs.compression, crate::Compression::Gzip);
        assert_eq!(spans.compression, crate::Compression::None);
    }

    #[test]
    fn bad_values_of_logs_name_the_variable() {
        let cases: [(&[(&str, &str)], &str); 11] = [
            (&[("OTEL_LOGS_EXPORTER", "stdout")], "OTEL_LOGS_EXPORTER"),
            (&[("OTEL_LOGS_EXPORTER", "logging")], "OTEL_LOGS_EXPORTER"),
            (
                &[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "collector:4318")],
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://u:pw@c/v1/logs")],
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json")],
                "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "no-equals-sign")],
                "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "/nonexistent/ca.pem")],
                "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
            ),
            (
                &[("OTEL_BLRP_SCHEDULE_DELAY", "1s")],
                "OTEL_BLRP_SCHEDULE_DELAY",
            ),
            (
                &[("OTEL_BLRP_EXPORT_TIMEOUT", "0")],
                "OTEL_BLRP_EXPORT_TIMEOUT",
            ),
            (
                &[("OTEL_BLRP_MAX_QUEUE_SIZE", "-5")],
                "OTEL_BLRP_MAX_QUEUE_SIZE",
            ),
            (
                &[("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "many")],
                "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
            ),
        ];
        for (vars, variable) in cases {
            let err = settings(vars).unwrap_err();
            assert_eq!(err.variable, variable, "{err}");
            assert!(err.to_string().contains(variable), "{err}");
        }
    }
}
