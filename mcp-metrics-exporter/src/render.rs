//! The Prometheus text format 0.0.4 and the OpenMetrics 1.0 text format.
//!
//! Families come out sorted by name and series sorted by labels, with one `# HELP` and one
//! `# TYPE` per family. Rendering reads each atomic once: its cost grows with the number of
//! series and buckets, never with the number of values recorded.

use crate::registry::{Family, Kind, Registry, Value};
use crate::sanitize::{push_f64, push_help, push_u64};

/// Content type of the Prometheus text format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of the OpenMetrics text format.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A text exposition format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text format, ending in `# EOF`.
    OpenMetrics,
}

impl Format {
    /// The HTTP `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Prometheus => PROMETHEUS_CONTENT_TYPE,
            Self::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }

    /// Picks the format an HTTP `Accept` header asks for: OpenMetrics 1.0 when it is listed
    /// with a non-zero quality and a quality at least that of `text/plain`, else Prometheus.
    pub fn from_accept(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Self::Prometheus;
        };
        let mut openmetrics = None::<f32>;
        let mut plain = 0f32;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let mut q = 1f32;
            let mut version_ok = true;
            for param in parts {
                let (k, v) = param.split_once('=').unwrap_or((param, ""));
                match k.trim().to_ascii_lowercase().as_str() {
                    "q" => q = v.trim().parse().unwrap_or(0.0),
                    "version" => version_ok = v.trim().trim_matches('"') == "1.0.0",
                    _ => {}
                }
            }
            match media.as_str() {
                "application/openmetrics-text" if version_ok && q > 0.0 => {
                    openmetrics = Some(openmetrics.map_or(q, |o| o.max(q)));
                }
                "text/plain" => plain = plain.max(q),
                _ => {}
            }
        }
        match openmetrics {
            Some(q) if q >= plain => Self::OpenMetrics,
            _ => Self::Prometheus,
        }
    }
}

impl Registry {
    /// Renders every series in the Prometheus text format 0.0.4.
    pub fn render_prometheus(&self) -> String {
        self.render(Format::Prometheus)
    }

    /// Renders every series in the OpenMetrics 1.0 text format.
    pub fn render_openmetrics(&self) -> String {
        self.render(Format::OpenMetrics)
    }

    /// Renders every series in `format`.
    pub fn render(&self, format: Format) -> String {
        let mut out = String::with_capacity(self.render_hint() + self.render_hint() / 8);
        {
            let state = self.read();
            for family in state.families.values().filter(|f| !f.series.is_empty()) {
                let help = state.descriptions.get(&family.raw_name);
                let unit = help.and_then(|d| d.unit).map(|u| u.as_str());
                let help = help.map(|d| d.help.as_ref());
                write_family(&mut out, family, help, unit, format);
            }
        }
        if format == Format::OpenMetrics {
            out.push_str("# EOF\n");
        }
        self.set_render_hint(out.len());
        out
    }
}

fn write_family(
    out: &mut String,
    family: &Family,
    help: Option<&str>,
    unit: Option<&str>,
    format: Format,
) {
    let om = format == Format::OpenMetrics;
    // OpenMetrics names a counter family without its `_total`; its samples keep it.
    let family_name = if om && family.kind == Kind::Counter {
        family.name.strip_suffix("_total").unwrap_or(&family.name)
    } else {
        family.name.as_str()
    };
    out.push_str("# HELP ");
    out.push_str(family_name);
    out.push(' ');
    match help {
        Some(help) => push_help(out, help, om),
        None => {
            out.push_str("Metric ");
            out.push_str(&family.raw_name);
            out.push_str(" (no description registered).");
        }
    }
    out.push_str("\n# TYPE ");
    out.push_str(family_name);
    out.push(' ');
    out.push_str(family.kind.as_str());
    out.push('\n');
    if let Some(unit) =
        unit.filter(|u| om && !u.is_empty() && family_name.ends_with(&format!("_{u}")))
    {
        out.push_str("# UNIT ");
        out.push_str(family_name);
        out.push(' ');
        out.push_str(unit);
        out.push('\n');
    }
    for series in family.series.values() {
        match &series.value {
            Value::Counter(c) => {
                write_sample_start(out, &family.name, "", &series.rendered);
                push_u64(out, c.value());
                out.push('\n');
            }
            Value::Gauge(g) => {
                write_sample_start(out, &family.name, "", &series.rendered);
                push_f64(out, g.value());
                out.push('\n');
            }
            Value::Histogram(h) => {
                let mut cumulative = 0u64;
                let exemplars = if om { h.exemplars() } else { None };
                let le = family.buckets.as_ref().map_or(&[][..], |b| b.le(om));
                for (i, (le, count)) in le.iter().zip(h.bucket_counts()).enumerate() {
                    cumulative += count;
                    out.push_str(&family.name);
                    out.push_str("_bucket{");
                    out.push_str(&series.rendered);
                    if !series.rendered.is_empty() {
                        out.push(',');
                    }
                    out.push_str("le=\"");
                    out.push_str(le);
                    out.push_str("\"} ");
                    push_u64(out, cumulative);
                    if let Some(e) = exemplars
                        .as_ref()
                        .and_then(|all| all.get(i).copied().flatten())
                    {
                        push_exemplar(out, &e);
                    }
                    out.push('\n');
                }
                write_sample_start(out, &family.name, "_sum", &series.rendered);
                push_f64(out, h.sum());
                out.push('\n');
                write_sample_start(out, &family.name, "_count", &series.rendered);
                push_u64(out, cumulative);
                out.push('\n');
            }
        }
    }
}

/// Writes an OpenMetrics exemplar: ` # {trace_id="..",span_id=".."} value timestamp`.
fn push_exemplar(out: &mut String, e: &mcp_metrics::store::StoredExemplar) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        " # {{trace_id=\"{:032x}\",span_id=\"{:016x}\"}} ",
        e.exemplar.trace_id, e.exemplar.span_id
    );
    push_f64(out, e.value);
    out.push(' ');
    push_f64(out, e.timestamp);
}

/// Writes `name{labels} ` (or `name ` without labels).
fn write_sample_start(out: &mut String, name: &str, suffix: &str, labels: &str) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() {
        out.push('{');
        out.push_str(labels);
        out.push('}');
    }
    out.push(' ');
}
