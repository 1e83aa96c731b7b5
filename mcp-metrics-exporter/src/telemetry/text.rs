//! The fields of text log lines: those of `tracing-subscriber`'s default format, minus what only an
//! OpenTelemetry exporter reads (`otel.*`) and what a tool span's name already says
//! (`execute_tool {tool}` carries `gen_ai.operation.name`, `gen_ai.tool.name` and
//! `gen_ai.tool.type`). A line inside a tool still names the tool; the tool span, opened at every
//! call, formats no field a reader would not see twice.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{RecordFields, VisitOutput as _};
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::FormattedFields;
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};

/// The field formatter of the text log layer.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct TextFields;

/// Whether a field is written into a text line.
fn shown(field: &Field) -> bool {
    let name = field.name();
    !(name.starts_with("otel.")
        || matches!(
            name,
            "gen_ai.operation.name" | "gen_ai.tool.name" | "gen_ai.tool.type"
        ))
}

/// The default visitor, given only the fields that are [`shown`].
struct Shown<'a>(DefaultVisitor<'a>);

impl Visit for Shown<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if shown(field) {
            self.0.record_f64(field, value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if shown(field) {
            self.0.record_i64(field, value);
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if shown(field) {
            self.0.record_u64(field, value);
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if shown(field) {
            self.0.record_bool(field, value);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if shown(field) {
            self.0.record_str(field, value);
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if shown(field) {
            self.0.record_error(field, value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if shown(field) {
            self.0.record_debug(field, value);
        }
    }
}

impl<'w> FormatFields<'w> for TextFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = Shown(DefaultVisitor::new(writer, true));
        fields.record(&mut visitor);
        visitor.0.finish()
    }

    /// Fields recorded later are appended after a space only if they are shown.
    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let empty = current.fields.is_empty();
        let mut visitor = Shown(DefaultVisitor::new(current.as_writer(), empty));
        fields.record(&mut visitor);
        visitor.0.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::TextFields;
    use tracing_subscriber::layer::SubscriberExt as _;

    fn line(f: impl FnOnce()) -> String {
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = out.clone();
        let layer = tracing_subscriber::fmt::layer()
            .fmt_fields(TextFields)
            .with_ansi(false)
            .without_time()
            .with_writer(move || Writer(sink.clone()));
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
        String::from_utf8(out.lock().unwrap().clone()).unwrap()
    }

    struct Writer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_tool_span_shows_its_name_and_the_application_fields_only() {
        let text = line(|| {
            let span = tracing::info_span!(
                "execute_tool lookup",
                otel.kind = "internal",
                gen_ai.operation.name = "execute_tool",
                gen_ai.tool.name = "lookup",
                gen_ai.tool.type = "function",
                otel.status_code = tracing::field::Empty,
                region = "eu",
                attempt = 2,
            );
            let _in = span.enter();
            span.record("otel.status_code", "ERROR");
            tracing::info!(key = "k1", "looked up");
        });
        assert_eq!(
            text.trim(),
            "INFO execute_tool lookup{region=\"eu\" attempt=2}: tracing_subscriber_fields: looked up key=\"k1\""
                .replace("tracing_subscriber_fields", module_path!()),
        );
    }

    #[test]
    fn fields_recorded_later_are_shown_after_a_space() {
        let text = line(|| {
            let span = tracing::info_span!(
                "execute_tool add",
                gen_ai.tool.name = "add",
                region = tracing::field::Empty,
                error.type = tracing::field::Empty,
            );
            span.record("region", "eu");
            span.record("error.type", "timeout");
            let _in = span.enter();
            tracing::info!("done");
        });
        assert!(
            text.contains("execute_tool add{region=\"eu\" error.type=\"timeout\"}: "),
            "{text}"
        );
        let bare = line(|| {
            let span = tracing::info_span!("execute_tool add", gen_ai.tool.name = "add");
            let _in = span.enter();
            tracing::info!("done");
        });
        assert!(bare.contains("execute_tool add: "), "{bare}");
    }
}
