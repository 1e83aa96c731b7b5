//! The data of one metric family as OTLP data points, under the configured temporality and
//! histogram aggregation, and the readings that delta temporality keeps between two exports.
//!
//! Every series is cumulative in the registry. A delta is the difference between the reading
//! of this export and the one of the last export that was delivered ([`Readings`], one entry
//! per series, so memory follows the number of series and nothing else). As the Metrics SDK
//! specification asks of synchronous instruments under delta temporality, a counter or
//! histogram that did not change since then sends no data point; cumulative ones are sent every
//! time. A delta point starts where the last delivered export ended; a cumulative point starts
//! when the registry was created.

use std::collections::HashMap;
use std::sync::Arc;

use mcp_metrics::catalog::{self, Metric as CatalogMetric};
use mcp_metrics::store::{ExponentialBuckets, ExponentialSnapshot, Histogram as AtomicHistogram};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, NumberDataPoint, Sum, exemplar,
    exponential_histogram_data_point, metric, number_data_point,
};

use super::attributes;
use crate::config::otlp::{HistogramAggregation, Temporality};
use crate::registry::{Family, Kind, Labels, Value};

/// The most buckets an exponential data point has per sign: the specification's default.
pub(crate) const MAX_EXPONENTIAL_BUCKETS: usize = 160;

/// The metrics of the catalog that are up-down counters: counts of things open now, which go
/// up and down by one. OTLP sends them as non-monotonic sums, cumulative under every
/// temporality preference; other gauges are set to a value and leave as OTLP gauges.
const UP_DOWN: [&CatalogMetric; 4] = [
    &catalog::TOOL_CALLS_IN_FLIGHT,
    &catalog::SERVER_SESSIONS_ACTIVE,
    &catalog::SERVER_TASKS_ACTIVE,
    &catalog::SERVER_SUBSCRIPTIONS_ACTIVE,
];

/// Whether the metric is an up-down counter.
pub(crate) fn is_up_down(naming: Option<&CatalogMetric>) -> bool {
    naming.is_some_and(|n| UP_DOWN.iter().any(|m| m.name == n.name))
}

/// The last delivered reading of one series.
#[derive(Debug, Clone)]
enum Reading {
    Counter(u64),
    Explicit {
        counts: Vec<u64>,
        sum: f64,
    },
    Exponential {
        buckets: ExponentialSnapshot,
        sum: f64,
    },
}

/// The readings of every delta series, by the address of its storage (series are never
/// removed, so an address names one series for the life of the registry).
#[derive(Debug, Default, Clone)]
pub(crate) struct Readings(HashMap<usize, Reading>);

fn key<T>(storage: &Arc<T>) -> usize {
    Arc::as_ptr(storage).cast::<()>() as usize
}

/// What one export needs to turn a family into data points.
pub(crate) struct Points<'a> {
    pub(crate) temporality: Temporality,
    pub(crate) aggregation: HistogramAggregation,
    /// When the registry was created: the start of cumulative points.
    pub(crate) start: u64,
    /// When the last delivered export was taken: the start of delta points.
    pub(crate) last: u64,
    pub(crate) now: u64,
    pub(crate) previous: &'a Readings,
    /// The readings of this export, for the next one (delta only).
    pub(crate) next: Readings,
}

impl Points<'_> {
    /// The data of `family`, or `None` when it has no data point to send.
    pub(crate) fn data(
        &mut self,
        family: &Family,
        naming: Option<&CatalogMetric>,
    ) -> Option<metric::Data> {
        let data = match family.kind {
            Kind::Counter => metric::Data::Sum(self.counters(family, naming)),
            Kind::Gauge if is_up_down(naming) => metric::Data::Sum(self.up_down(family, naming)),
            Kind::Gauge => metric::Data::Gauge(Gauge {
                data_points: self.gauges(family, naming),
            }),
            Kind::Histogram => self.histograms(family, naming),
        };
        let empty = match &data {
            metric::Data::Sum(s) => s.data_points.is_empty(),
            metric::Data::Gauge(g) => g.data_points.is_empty(),
            metric::Data::Histogram(h) => h.data_points.is_empty(),
            metric::Data::ExponentialHistogram(h) => h.data_points.is_empty(),
            metric::Data::Summary(s) => s.data_points.is_empty(),
        };
        (!empty).then_some(data)
    }

    fn delta(&self) -> bool {
        self.temporality.delta()
    }

    fn temporality(&self, delta: bool) -> i32 {
        if delta {
            AggregationTemporality::Delta as i32
        } else {
            AggregationTemporality::Cumulative as i32
        }
    }

    /// The start of a point of a sum or histogram.
    fn start(&self, delta: bool) -> u64 {
        if delta { self.last } else { self.start }
    }

    fn number(
        &self,
        attributes: Vec<KeyValue>,
        start: u64,
        value: number_data_point::Value,
    ) -> NumberDataPoint {
        NumberDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: self.now,
            value: Some(value),
            ..Default::default()
        }
    }

    fn counters(&mut self, family: &Family, naming: Option<&CatalogMetric>) -> Sum {
        let delta = self.delta();
        let mut data_points = Vec::new();
        for (labels, series) in &family.series {
            let Value::Counter(c) = &series.value else {
                continue;
            };
            let mut value = c.value();
            if delta {
                let previous = match self.previous.0.get(&key(c)) {
                    Some(Reading::Counter(v)) => *v,
                    _ => 0,
                };
                self.next.0.insert(key(c), Reading::Counter(value));
                value = value.saturating_sub(previous);
                if value == 0 {
                    continue;
                }
            }
            let value = i64::try_from(value).unwrap_or(i64::MAX);
            data_points.push(self.number(
                attributes(naming, labels),
                self.start(delta),
                number_data_point::Value::AsInt(value),
            ));
        }
        Sum {
            data_points,
            aggregation_temporality: self.temporality(delta),
            is_monotonic: true,
        }
    }

    fn gauge_values(family: &Family) -> impl Iterator<Item = (&Labels, number_data_point::Value)> {
        family
            .series
            .iter()
            .filter_map(|(labels, s)| match &s.value {
                Value::Gauge(g) => Some((labels, number_data_point::Value::AsDouble(g.value()))),
                _ => None,
            })
    }

    fn up_down(&self, family: &Family, naming: Option<&CatalogMetric>) -> Sum {
        Sum {
            data_points: Self::gauge_values(family)
                .map(|(labels, v)| self.number(attributes(naming, labels), self.start, v))
                .collect(),
            aggregation_temporality: self.temporality(false),
            is_monotonic: false,
        }
    }

    fn gauges(&self, family: &Family, naming: Option<&CatalogMetric>) -> Vec<NumberDataPoint> {
        Self::gauge_values(family)
            .map(|(labels, v)| self.number(attributes(naming, labels), self.start, v))
            .collect()
    }

    fn histograms(&mut self, family: &Family, naming: Option<&CatalogMetric>) -> metric::Data {
        let delta = self.delta();
        let series = family
            .series
            .iter()
            .filter_map(|(labels, s)| match &s.value {
                Value::Histogram(h) => Some((labels, h)),
                _ => None,
            });
        let exponential = self.aggregation == HistogramAggregation::Base2Exponential;
        if exponential {
            let mut data_points = Vec::new();
            for (labels, h) in series {
                if let Some(point) = self.exponential_point(h, attributes(naming, labels)) {
                    data_points.push(point);
                }
            }
            return metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points,
                aggregation_temporality: self.temporality(delta),
            });
        }
        let mut data_points = Vec::new();
        for (labels, h) in series {
            if let Some(point) = self.explicit_point(h, attributes(naming, labels)) {
                data_points.push(point);
            }
        }
        metric::Data::Histogram(Histogram {
            data_points,
            aggregation_temporality: self.temporality(delta),
        })
    }

    fn explicit_point(
        &mut self,
        h: &Arc<AtomicHistogram>,
        attributes: Vec<KeyValue>,
    ) -> Option<HistogramDataPoint> {
        let delta = self.delta();
        let mut bucket_counts: Vec<u64> = h.bucket_counts().collect();
        let mut sum = h.sum();
        if delta {
            let reading = Reading::Explicit {
                counts: bucket_counts.clone(),
                sum,
            };
            self.next.0.insert(key(h), reading);
            if let Some(Reading::Explicit {
                counts,
                sum: before,
            }) = self.previous.0.get(&key(h))
            {
                for (now, before) in bucket_counts.iter_mut().zip(counts) {
                    *now = now.saturating_sub(*before);
                }
                sum -= before;
            }
        }
        let count: u64 = bucket_counts.iter().sum();
        if delta && count == 0 {
            return None;
        }
        Some(HistogramDataPoint {
            attributes,
            start_time_unix_nano: self.start(delta),
            time_unix_nano: self.now,
            count,
            sum: Some(sum),
            bucket_counts,
            explicit_bounds: h.bounds().to_vec(),
            exemplars: self.exemplars(h, delta),
            ..Default::default()
        })
    }

    fn exponential_point(
        &mut self,
        h: &Arc<AtomicHistogram>,
        attributes: Vec<KeyValue>,
    ) -> Option<ExponentialHistogramDataPoint> {
        let delta = self.delta();
        // Every histogram keeps exponential buckets when this aggregation is configured.
        let mut buckets = h.exponential()?;
        let mut sum = h.sum();
        if delta {
            let reading = Reading::Exponential {
                buckets: buckets.clone(),
                sum,
            };
            self.next.0.insert(key(h), reading);
            if let Some(Reading::Exponential {
                buckets: before,
                sum: before_sum,
            }) = self.previous.0.get(&key(h))
            {
                buckets = buckets.since(before);
                sum -= before_sum;
            }
        }
        let count = buckets.count();
        if delta && count == 0 {
            return None;
        }
        let fitted = buckets.fitted(MAX_EXPONENTIAL_BUCKETS);
        let side = |b: ExponentialBuckets| exponential_histogram_data_point::Buckets {
            offset: b.offset,
            bucket_counts: b.counts,
        };
        Some(ExponentialHistogramDataPoint {
            attributes,
            start_time_unix_nano: self.start(delta),
            time_unix_nano: self.now,
            count,
            sum: Some(sum),
            scale: fitted.scale,
            zero_count: fitted.zero_count,
            zero_threshold: fitted.zero_threshold,
            positive: Some(side(fitted.positive)),
            negative: Some(side(fitted.negative)),
            exemplars: self.exemplars(h, delta),
            ..Default::default()
        })
    }

    /// The exemplars the histogram kept (under delta, those taken since the last export).
    fn exemplars(&self, h: &AtomicHistogram, delta: bool) -> Vec<Exemplar> {
        let since = if delta { self.last } else { 0 };
        h.exemplars()
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let time = (e.timestamp * 1e9) as u64;
                (time > since).then(|| Exemplar {
                    filtered_attributes: Vec::new(),
                    time_unix_nano: time,
                    value: Some(exemplar::Value::AsDouble(e.value)),
                    span_id: e.exemplar.span_id.to_be_bytes().to_vec(),
                    trace_id: e.exemplar.trace_id.to_be_bytes().to_vec(),
                })
            })
            .collect()
    }
}
