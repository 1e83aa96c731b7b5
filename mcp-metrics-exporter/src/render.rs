//! The Prometheus text format 0.0.4 and the OpenMetrics 1.0 text format.
//!
//! Families come out sorted by name and series sorted by labels, with one `# HELP` and one
//! `# TYPE` per family. Rendering reads each atomic once: its cost grows with the number of
//! series and buckets, never with the number of values recorded.
//!
//! A render holds the registry's lock only to collect one [`FamilyView`] per family, which
//! takes microseconds; it formats without any lock, so a new series never waits for a render.
//! A view is what stays the same from one render to the next: the family's `# HELP`/`# TYPE`
//! lines, the escaped label text of every series in one buffer, in order, and the series'
//! atomics in the same order. The first render after the family changed builds a new view,
//! moving the unchanged series over from the previous one: only new series are read from the
//! family's map, and no reference count of an unchanged series is touched.

use std::sync::{Arc, PoisonError};

use mcp_metrics::store::{Counter, Gauge, Histogram, StoredExemplar};

use crate::histogram::Buckets;
use crate::registry::{Description, Family, Kind, Labels, Registry, Value};
use crate::sanitize::{push_f64, push_help, push_label_value, push_u64};

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
        let views = self.views();
        let mut out = String::with_capacity(self.render_hint() + self.render_hint() / 8);
        for view in &views {
            view.write(&mut out, format);
        }
        if format == Format::OpenMetrics {
            out.push_str("# EOF\n");
        }
        self.set_render_hint(out.len());
        out
    }

    /// The view of every family with series, in name order, building those that changed.
    fn views(&self) -> Vec<Arc<FamilyView>> {
        let state = self.read();
        state
            .families
            .values()
            .filter(|f| !f.series.is_empty())
            .map(|f| f.current_view(state.descriptions.get(&f.raw_name)))
            .collect()
    }
}

impl Family {
    /// The view of the family as it is, built first if it changed since the last one.
    fn current_view(&self, description: Option<&Description>) -> Arc<FamilyView> {
        let view = self.view.get_or_init(|| {
            let retired = self
                .retired
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            // A render still using the retired view makes this a copy; usually it is a move.
            let retired = retired.map(Arc::unwrap_or_clone);
            Arc::new(FamilyView::new(self, description, retired))
        });
        Arc::clone(view)
    }
}

/// How many counter or gauge values a render reads before formatting them.
const BATCH: usize = 32;

/// How many histograms a render reads before formatting them.
const HISTOGRAM_BATCH: usize = 8;

/// The bucket counts (not cumulative, `+Inf` last) and the sum read from one histogram.
#[derive(Clone, Copy)]
struct Reading<'a> {
    counts: &'a [u64],
    sum: f64,
}

/// What a render reads of one family, fixed until the family changes.
///
/// Memory: 16 bytes per series plus its escaped label text (`a="x",b="y"`), and the header
/// lines and `le` values once per family.
#[derive(Clone, Debug)]
pub(crate) struct FamilyView {
    /// Exposition name (a counter's ends in `_total`), the start of every sample line.
    name: Box<str>,
    /// `# HELP`, `# TYPE` (and `# UNIT`) lines: Prometheus, then OpenMetrics.
    headers: [Box<str>; 2],
    /// For a histogram, per bucket (`+Inf` last) the rest of its line after `le="`: `0.5"} `;
    /// Prometheus, then OpenMetrics. Empty for other kinds.
    tails: [Box<[Box<str>]>; 2],
    /// The label text of every series, one after the other, in series order.
    labels: String,
    /// The series, in label order.
    samples: Samples,
    /// How many series the family had when this view was built: those it holds.
    covers: usize,
}

#[derive(Clone, Debug)]
enum Samples {
    Counters(Vec<Entry<Counter>>),
    Gauges(Vec<Entry<Gauge>>),
    Histograms(Vec<Entry<Histogram>>),
}

/// One series of a view.
#[derive(Debug)]
struct Entry<T> {
    /// End of this series' labels in [`FamilyView::labels`]; the previous entry's end (or 0)
    /// is its start.
    labels_end: usize,
    value: Arc<T>,
}

impl<T> Clone for Entry<T> {
    fn clone(&self) -> Self {
        Self {
            labels_end: self.labels_end,
            value: Arc::clone(&self.value),
        }
    }
}

/// The storage type of one kind of family, and how to find it in a [`Value`] and a [`Samples`].
trait Stored: Sized {
    fn of(value: &Value) -> Option<&Arc<Self>>;
    fn entries(samples: Samples) -> Option<Vec<Entry<Self>>>;
    fn samples(entries: Vec<Entry<Self>>) -> Samples;
}

impl Stored for Counter {
    fn of(value: &Value) -> Option<&Arc<Self>> {
        match value {
            Value::Counter(c) => Some(c),
            _ => None,
        }
    }
    fn entries(samples: Samples) -> Option<Vec<Entry<Self>>> {
        match samples {
            Samples::Counters(e) => Some(e),
            _ => None,
        }
    }
    fn samples(entries: Vec<Entry<Self>>) -> Samples {
        Samples::Counters(entries)
    }
}

impl Stored for Gauge {
    fn of(value: &Value) -> Option<&Arc<Self>> {
        match value {
            Value::Gauge(g) => Some(g),
            _ => None,
        }
    }
    fn entries(samples: Samples) -> Option<Vec<Entry<Self>>> {
        match samples {
            Samples::Gauges(e) => Some(e),
            _ => None,
        }
    }
    fn samples(entries: Vec<Entry<Self>>) -> Samples {
        Samples::Gauges(entries)
    }
}

impl Stored for Histogram {
    fn of(value: &Value) -> Option<&Arc<Self>> {
        match value {
            Value::Histogram(h) => Some(h),
            _ => None,
        }
    }
    fn entries(samples: Samples) -> Option<Vec<Entry<Self>>> {
        match samples {
            Samples::Histograms(e) => Some(e),
            _ => None,
        }
    }
    fn samples(entries: Vec<Entry<Self>>) -> Samples {
        Samples::Histograms(entries)
    }
}

impl FamilyView {
    /// The view of `family`. The series `retired` (an earlier view of it) holds are moved
    /// over with their label text; only the series added since are read from the family.
    fn new(family: &Family, description: Option<&Description>, retired: Option<Self>) -> Self {
        let (labels, samples) = match family.kind {
            Kind::Counter => merge::<Counter>(family, retired),
            Kind::Gauge => merge::<Gauge>(family, retired),
            Kind::Histogram => merge::<Histogram>(family, retired),
        };
        Self {
            name: family.name.as_str().into(),
            headers: [Format::Prometheus, Format::OpenMetrics]
                .map(|format| header(family, description, format).into_boxed_str()),
            tails: family
                .buckets
                .as_ref()
                .map(|b| [tails(b, false), tails(b, true)])
                .unwrap_or_default(),
            labels,
            samples,
            covers: family.series.len(),
        }
    }

    fn write(&self, out: &mut String, format: Format) {
        out.push_str(&self.headers[format as usize]);
        match &self.samples {
            Samples::Counters(series) => {
                self.write_lines(out, series, |c| c.value(), push_u64);
            }
            Samples::Gauges(series) => self.write_lines(out, series, Gauge::value, push_f64),
            Samples::Histograms(series) => self.write_histograms(out, series, format),
        }
    }

    /// Writes one `name{labels} value` line per entry. The values are read a batch at a time
    /// before they are formatted: the atomics are scattered over the heap, and reads that do
    /// not wait for each other's cache misses overlap.
    fn write_lines<T, V: Copy + Default>(
        &self,
        out: &mut String,
        entries: &[Entry<T>],
        read: impl Fn(&T) -> V,
        push: impl Fn(&mut String, V),
    ) {
        let mut labels = self.label_texts(entries);
        for batch in entries.chunks(BATCH) {
            let mut values = [V::default(); BATCH];
            for (value, entry) in values.iter_mut().zip(batch) {
                *value = read(&entry.value);
            }
            for ((_, value), labels) in batch.iter().zip(values).zip(labels.by_ref()) {
                write_sample_start(out, &self.name, "", labels);
                push(out, value);
                out.push('\n');
            }
        }
    }

    /// Writes every histogram of `entries`, reading the buckets of [`HISTOGRAM_BATCH`] of them
    /// before formatting (see [`Self::write_lines`]).
    fn write_histograms(&self, out: &mut String, entries: &[Entry<Histogram>], format: Format) {
        let buckets = self.tails[format as usize].len();
        let mut counts = Vec::with_capacity(HISTOGRAM_BATCH * buckets);
        let mut prefix = String::new();
        let mut labels = self.label_texts(entries);
        for batch in entries.chunks(HISTOGRAM_BATCH) {
            let mut sums = [0.0; HISTOGRAM_BATCH];
            for (sum, entry) in sums.iter_mut().zip(batch) {
                *sum = entry.value.sum();
            }
            counts.clear();
            for entry in batch {
                // Every histogram of a family has the family's buckets.
                let read = entry.value.bucket_counts().chain(std::iter::repeat(0));
                counts.extend(read.take(buckets));
            }
            let per_series = counts.chunks(buckets.max(1));
            for (((entry, sum), counts), labels) in
                batch.iter().zip(sums).zip(per_series).zip(labels.by_ref())
            {
                let reading = Reading { counts, sum };
                self.write_histogram(out, &mut prefix, labels, &entry.value, reading, format);
            }
        }
    }

    /// The label text of each of `entries`, in order.
    fn label_texts<'a, T>(&'a self, entries: &'a [Entry<T>]) -> impl Iterator<Item = &'a str> {
        let mut start = 0;
        entries.iter().map(move |e| {
            let labels = &self.labels[start..e.labels_end];
            start = e.labels_end;
            labels
        })
    }

    /// Writes the bucket lines, `_sum` and `_count` of one histogram from `reading`. `prefix`
    /// is scratch space for the start of its bucket lines.
    fn write_histogram(
        &self,
        out: &mut String,
        prefix: &mut String,
        labels: &str,
        h: &Histogram,
        reading: Reading<'_>,
        format: Format,
    ) {
        prefix.clear();
        prefix.push_str(&self.name);
        prefix.push_str("_bucket{");
        prefix.push_str(labels);
        if !labels.is_empty() {
            prefix.push(',');
        }
        prefix.push_str("le=\"");
        let exemplars = if format == Format::OpenMetrics {
            h.exemplars()
        } else {
            None
        };
        let tails = &self.tails[format as usize];
        let mut cumulative = 0u64;
        for (i, (tail, count)) in tails.iter().zip(reading.counts).enumerate() {
            cumulative += count;
            out.push_str(prefix);
            out.push_str(tail);
            push_u64(out, cumulative);
            if let Some(e) = exemplars
                .as_ref()
                .and_then(|all| all.get(i).copied().flatten())
            {
                push_exemplar(out, &e);
            }
            out.push('\n');
        }
        write_sample_start(out, &self.name, "_sum", labels);
        push_f64(out, reading.sum);
        out.push('\n');
        write_sample_start(out, &self.name, "_count", labels);
        push_u64(out, cumulative);
        out.push('\n');
    }
}

/// The label text and entries of every series of `family`, in label order: those `retired`
/// holds moved over, the others read from the family.
fn merge<T: Stored>(family: &Family, retired: Option<FamilyView>) -> (String, Samples) {
    let (covers, old_labels, old) = retired
        .and_then(|v| Some((v.covers, v.labels, T::entries(v.samples)?)))
        .unwrap_or_default();
    let added = family.series.len() - covers.min(family.series.len());
    let mut labels = String::with_capacity(old_labels.len() + added * 64);
    let mut entries = Vec::with_capacity(family.series.len());
    let mut old = old.into_iter();
    let mut old_start = 0;
    for (key, series) in &family.series {
        let Some(value) = T::of(&series.value) else {
            continue;
        };
        let value = match (series.added < covers).then(|| old.next()).flatten() {
            Some(entry) => {
                labels.push_str(&old_labels[old_start..entry.labels_end]);
                old_start = entry.labels_end;
                entry.value
            }
            None => {
                push_labels(&mut labels, key);
                Arc::clone(value)
            }
        };
        entries.push(Entry {
            labels_end: labels.len(),
            value,
        });
    }
    labels.shrink_to_fit();
    (labels, T::samples(entries))
}

/// Appends `a="x",b="y"`, escaped; nothing without labels.
fn push_labels(out: &mut String, labels: &Labels) {
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        push_label_value(out, value);
        out.push('"');
    }
}

/// The rest of each bucket line after `le="`, up to the value: `0.5"} `.
fn tails(buckets: &Buckets, openmetrics: bool) -> Box<[Box<str>]> {
    buckets
        .le(openmetrics)
        .iter()
        .map(|le| format!("{le}\"}} ").into_boxed_str())
        .collect()
}

/// The `# HELP`, `# TYPE` and (OpenMetrics only) `# UNIT` lines of a family.
fn header(family: &Family, description: Option<&Description>, format: Format) -> String {
    let om = format == Format::OpenMetrics;
    // OpenMetrics names a counter family without its `_total`; its samples keep it.
    let family_name = if om && family.kind == Kind::Counter {
        family.name.strip_suffix("_total").unwrap_or(&family.name)
    } else {
        family.name.as_str()
    };
    let mut out = String::new();
    out.push_str("# HELP ");
    out.push_str(family_name);
    out.push(' ');
    match description {
        Some(d) => push_help(&mut out, &d.help, om),
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
    let unit = description.and_then(|d| d.unit).map(|u| u.as_str());
    if let Some(unit) =
        unit.filter(|u| om && !u.is_empty() && family_name.ends_with(&format!("_{u}")))
    {
        out.push_str("# UNIT ");
        out.push_str(family_name);
        out.push(' ');
        out.push_str(unit);
        out.push('\n');
    }
    out
}

/// Writes an OpenMetrics exemplar: ` # {trace_id="..",span_id=".."} value timestamp`.
fn push_exemplar(out: &mut String, e: &StoredExemplar) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::{counter, with_local_recorder};

    #[test]
    fn a_new_series_does_not_wait_for_a_render_in_progress() {
        let registry = Registry::default();
        let add = |k: &'static str| {
            with_local_recorder(&registry, || counter!("a_total", "k" => k).increment(1));
        };
        add("2");
        // What a render holds while it formats: views, not the registry's lock.
        let in_progress = registry.views();
        std::thread::scope(|s| s.spawn(|| add("1")).join().unwrap());
        let mut held = String::new();
        for view in &in_progress {
            view.write(&mut held, Format::Prometheus);
        }
        assert!(held.ends_with("\na_total{k=\"2\"} 1\n"), "{held}");
        // The next render copies the view the first one still holds, and adds the new series.
        let next = registry.render_prometheus();
        assert!(
            next.ends_with("\na_total{k=\"1\"} 1\na_total{k=\"2\"} 1\n"),
            "{next}"
        );
    }
}
