//! OTLP/protobuf encoding of finished spans, written straight from the SDK's span data into one
//! buffer: an `ExportTraceServiceRequest` of one resource, the spans grouped by instrumentation
//! scope.
//!
//! opentelemetry-otlp first converts every span into the generated message types (a `String`
//! or `Vec` for each id, name, key and value) and then encodes them, computing the length of
//! every nested message again at each level: with every request sampled, that was three
//! quarters of what a span cost. Here the only allocation is the buffer, reused from batch to
//! batch, and a nested message's length is written once its body is: a body is encoded in
//! place after room for a guessed length prefix, and moved only when the guess was wrong.
//!
//! Fields follow `opentelemetry/proto/trace/v1/trace.proto` and the conversions of
//! opentelemetry-proto (ids, flags with the "has is-remote" bit, status, trace state); a test
//! decodes what is written here and compares it with those conversions of the same spans.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;

/// Wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK` and `SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK`.
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

fn key(buf: &mut Vec<u8>, field: u32, wire: u8) {
    varint(buf, u64::from(field << 3 | u32::from(wire)));
}

fn varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buf.push(value as u8 | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

fn varint_len(value: u64) -> usize {
    // One byte per started group of seven bits, at least one.
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

fn uint(buf: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        key(buf, field, VARINT);
        varint(buf, value);
    }
}

fn fixed64(buf: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        key(buf, field, FIXED64);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

fn fixed32(buf: &mut Vec<u8>, field: u32, value: u32) {
    if value != 0 {
        key(buf, field, FIXED32);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

fn bytes(buf: &mut Vec<u8>, field: u32, value: &[u8]) {
    if !value.is_empty() {
        key(buf, field, LEN);
        varint(buf, value.len() as u64);
        buf.extend_from_slice(value);
    }
}

fn string(buf: &mut Vec<u8>, field: u32, value: &str) {
    bytes(buf, field, value.as_bytes());
}

/// A nested message in field `field`, its body written by `body` after room for a length of
/// `guess` bytes; the body is moved when its length needs another number of bytes.
fn message(buf: &mut Vec<u8>, field: u32, guess: usize, body: impl FnOnce(&mut Vec<u8>)) {
    key(buf, field, LEN);
    let at = buf.len();
    buf.resize(at + guess, 0);
    body(buf);
    let len = buf.len() - at - guess;
    let need = varint_len(len as u64);
    if need != guess {
        let end = buf.len();
        if need > guess {
            buf.resize(end + need - guess, 0);
        }
        buf.copy_within(at + guess..end, at + need);
        buf.truncate(at + need + len);
    }
    let (mut value, mut i) = (len as u64, at);
    while value >= 0x80 {
        buf[i] = value as u8 | 0x80;
        value >>= 7;
        i += 1;
    }
    buf[i] = value as u8;
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// An `AnyValue` body.
fn any_value(buf: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Bool(v) => {
            // A oneof member is written even when it is the default value.
            key(buf, 2, VARINT);
            varint(buf, u64::from(*v));
        }
        Value::I64(v) => {
            key(buf, 3, VARINT);
            varint(buf, *v as u64);
        }
        Value::F64(v) => {
            key(buf, 4, FIXED64);
            buf.extend_from_slice(&v.to_le_bytes());
        }
        Value::String(v) => string_value(buf, v.as_str()),
        Value::Array(array) => message(buf, 5, 1, |buf| match array {
            Array::Bool(values) => each(buf, values, |v| Value::Bool(*v)),
            Array::I64(values) => each(buf, values, |v| Value::I64(*v)),
            Array::F64(values) => each(buf, values, |v| Value::F64(*v)),
            Array::String(values) => each(buf, values, |v| Value::String(v.clone())),
            other => {
                let text = other.to_string();
                message(buf, 1, 1, |buf| string_value(buf, &text));
            }
        }),
        other => string_value(buf, &other.to_string()),
    }
}

/// The values of an `ArrayValue`.
fn each<T>(buf: &mut Vec<u8>, values: &[T], value: impl Fn(&T) -> Value) {
    for v in values {
        message(buf, 1, 1, |buf| any_value(buf, &value(v)));
    }
}

fn string_value(buf: &mut Vec<u8>, text: &str) {
    key(buf, 1, LEN);
    varint(buf, text.len() as u64);
    buf.extend_from_slice(text.as_bytes());
}

/// Repeated `KeyValue`s in field `field`.
fn attributes<'a>(
    buf: &mut Vec<u8>,
    field: u32,
    attributes: impl IntoIterator<Item = &'a KeyValue>,
) {
    for kv in attributes {
        message(buf, field, 1, |buf| {
            string(buf, 1, kv.key.as_str());
            message(buf, 2, 1, |buf| any_value(buf, &kv.value));
        });
    }
}

/// The body of a `Resource` message.
pub(crate) fn resource(resource: &Resource) -> Vec<u8> {
    let mut buf = Vec::new();
    for (k, v) in resource.iter() {
        message(&mut buf, 1, 1, |buf| {
            string(buf, 1, k.as_str());
            message(buf, 2, 1, |buf| any_value(buf, v));
        });
    }
    buf
}

fn scope(buf: &mut Vec<u8>, scope: &InstrumentationScope) {
    string(buf, 1, scope.name());
    string(buf, 2, scope.version().unwrap_or_default());
    attributes(buf, 3, scope.attributes());
}

fn span(buf: &mut Vec<u8>, span: &SpanData) {
    let ids = &span.span_context;
    bytes(buf, 1, &ids.trace_id().to_bytes());
    bytes(buf, 2, &ids.span_id().to_bytes());
    string(buf, 3, &ids.trace_state().header());
    if span.parent_span_id != opentelemetry::trace::SpanId::INVALID {
        bytes(buf, 4, &span.parent_span_id.to_bytes());
    }
    string(buf, 5, &span.name);
    let kind = match span.span_kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    };
    uint(buf, 6, kind);
    fixed64(buf, 7, nanos(span.start_time));
    fixed64(buf, 8, nanos(span.end_time));
    attributes(buf, 9, &span.attributes);
    uint(buf, 10, u64::from(span.dropped_attributes_count));
    for event in span.events.iter() {
        message(buf, 11, 1, |buf| {
            fixed64(buf, 1, nanos(event.timestamp));
            string(buf, 2, &event.name);
            attributes(buf, 3, &event.attributes);
            uint(buf, 4, u64::from(event.dropped_attributes_count));
        });
    }
    uint(buf, 12, u64::from(span.events.dropped_count));
    for link in span.links.iter() {
        message(buf, 13, 1, |buf| {
            let ids = &link.span_context;
            bytes(buf, 1, &ids.trace_id().to_bytes());
            bytes(buf, 2, &ids.span_id().to_bytes());
            string(buf, 3, &ids.trace_state().header());
            attributes(buf, 4, &link.attributes);
            uint(buf, 5, u64::from(link.dropped_attributes_count));
            let remote = if ids.is_remote() { IS_REMOTE } else { 0 };
            fixed32(
                buf,
                6,
                u32::from(ids.trace_flags().to_u8()) | HAS_IS_REMOTE | remote,
            );
        });
    }
    uint(buf, 14, u64::from(span.links.dropped_count));
    message(buf, 15, 1, |buf| match &span.status {
        Status::Unset => {}
        Status::Ok => uint(buf, 3, 1),
        Status::Error { description } => {
            string(buf, 2, description);
            uint(buf, 3, 2);
        }
    });
    let remote = if span.parent_span_is_remote {
        IS_REMOTE
    } else {
        0
    };
    fixed32(
        buf,
        16,
        u32::from(ids.trace_flags().to_u8()) | HAS_IS_REMOTE | remote,
    );
}

/// Writes the `ExportTraceServiceRequest` of `spans` into `buf` (cleared first): one
/// `ResourceSpans` with the encoded `resource` body and `schema_url`, the spans grouped by
/// instrumentation scope in the order the scopes first appear.
pub(crate) fn spans(buf: &mut Vec<u8>, resource: &[u8], schema_url: &str, spans: &[SpanData]) {
    buf.clear();
    let mut scopes: Vec<&InstrumentationScope> = Vec::new();
    for span in spans {
        if !scopes.contains(&&span.instrumentation_scope) {
            scopes.push(&span.instrumentation_scope);
        }
    }
    message(buf, 1, 3, |buf| {
        message(buf, 1, 2, |buf| buf.extend_from_slice(resource));
        for s in &scopes {
            message(buf, 2, 3, |buf| {
                message(buf, 1, 1, |buf| scope(buf, s));
                for data in spans.iter().filter(|d| d.instrumentation_scope == **s) {
                    message(buf, 2, 2, |buf| span(buf, data));
                }
                string(buf, 3, s.schema_url().unwrap_or_default());
            });
        }
        string(buf, 3, schema_url);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use prost::Message as _;
    use std::time::Duration;

    fn data(n: u8, scope: &InstrumentationScope) -> SpanData {
        let ids = SpanContext::new(
            TraceId::from_bytes([n; 16]),
            SpanId::from_bytes([n + 1; 8]),
            if n.is_multiple_of(2) {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            },
            false,
            TraceState::from_key_value([("vendor", "v1")]).unwrap(),
        );
        let mut events = SpanEvents::default();
        events.events.push(opentelemetry::trace::Event::new(
            "retry",
            UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_123),
            vec![KeyValue::new("attempt", 2)],
            1,
        ));
        let mut links = SpanLinks::default();
        links.links.push(opentelemetry::trace::Link::new(
            SpanContext::new(
                TraceId::from_bytes([9; 16]),
                SpanId::from_bytes([8; 8]),
                TraceFlags::SAMPLED,
                true,
                TraceState::default(),
            ),
            vec![KeyValue::new("link.kind", "retry")],
            0,
        ));
        SpanData {
            span_context: ids,
            parent_span_id: if n == 0 {
                SpanId::INVALID
            } else {
                SpanId::from_bytes([7; 8])
            },
            parent_span_is_remote: n == 1,
            span_kind: match n % 3 {
                0 => SpanKind::Server,
                1 => SpanKind::Client,
                _ => SpanKind::Internal,
            },
            name: format!("tools/call tool{n}").into(),
            start_time: UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_000),
            end_time: UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_500_000),
            attributes: vec![
                KeyValue::new("mcp.method.name", "tools/call"),
                KeyValue::new("client.port", i64::from(n) - 1),
                KeyValue::new("ratio", 0.25),
                KeyValue::new("mcp_metrics.mrtr.retry", false),
                KeyValue::new(
                    "list",
                    Value::Array(Array::String(vec!["a".into(), "é".repeat(80).into()])),
                ),
                KeyValue::new("long", "x".repeat(300)),
            ],
            dropped_attributes_count: u32::from(n),
            events,
            links,
            status: match n % 3 {
                0 => Status::Unset,
                1 => Status::Ok,
                _ => Status::error("handler failed"),
            },
            instrumentation_scope: scope.clone(),
        }
    }

    /// What opentelemetry-otlp would send for the same spans, decoded from ours.
    #[test]
    fn the_encoding_decodes_to_what_the_reference_conversion_builds() {
        let ours = InstrumentationScope::builder("mcp-metrics").build();
        let theirs = InstrumentationScope::builder("app")
            .with_version("1.2.3")
            .with_schema_url("https://opentelemetry.io/schemas/1.30.0")
            .with_attributes([KeyValue::new("scope.attr", 1)])
            .build();
        let batch: Vec<SpanData> = (0..7)
            .map(|n| data(n, if n.is_multiple_of(2) { &ours } else { &theirs }))
            .collect();
        let resource = Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", "calculator"),
                KeyValue::new("service.instance.id", "a".repeat(200)),
            ])
            .build();
        let mut buf = Vec::new();
        spans(&mut buf, &super::resource(&resource), "", &batch);
        let decoded = ExportTraceServiceRequest::decode(buf.as_slice()).unwrap();
        let reference = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(
                batch,
                &ResourceAttributesWithSchema::from(&resource),
            ),
        };
        assert_eq!(decoded, reference);
    }

    #[test]
    fn lengths_of_every_size_are_written_in_the_fewest_bytes() {
        for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
            let mut buf = Vec::new();
            message(&mut buf, 1, 2, |buf| buf.resize(buf.len() + len, 7));
            let mut expected = Vec::new();
            bytes(&mut expected, 1, &vec![7; len]);
            if len == 0 {
                // An empty message is still written; an empty byte string is not.
                expected = vec![0x0a, 0];
            }
            assert_eq!(buf, expected, "length {len}");
            assert_eq!(buf.len(), 1 + varint_len(len as u64) + len);
        }
    }
}
