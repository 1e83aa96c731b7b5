//! A family: the series of one catalog metric, each registered once and found again by a compact
//! key of its label values.

use super::{Backend, Handle};
use crate::catalog::Metric;
use metrics::{Key, Label};
use rustc_hash::FxBuildHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{PoisonError, RwLock};

/// A label value that lives for the whole program, hashed and compared by address: equal
/// strings at two addresses are two keys of one series, which the store merges (it keys by
/// text), so comparing addresses is never wrong, only sometimes one entry more.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Str(pub(crate) &'static str);

impl PartialEq for Str {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Str {}

impl Hash for Str {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.0.as_ptr() as usize).hash(state);
        self.0.len().hash(state);
    }
}

/// The label values of one series, as a key.
pub(crate) trait LabelKey: Copy + Eq + Hash {
    /// The labels, built only when the series is registered.
    fn labels(&self) -> Vec<Label>;
}

impl LabelKey for () {
    fn labels(&self) -> Vec<Label> {
        Vec::new()
    }
}

/// The key of a series with one label: its name and value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct One(pub(crate) &'static str, pub(crate) Str);

impl LabelKey for One {
    fn labels(&self) -> Vec<Label> {
        labels([(self.0, Some(self.1))])
    }
}

/// The series of one metric.
pub(crate) struct Family<K, H> {
    metric: &'static Metric,
    handles: RwLock<HashMap<K, H, FxBuildHasher>>,
}

impl<K: LabelKey, H: Handle> Family<K, H> {
    /// The family of `metric`, empty.
    pub(crate) const fn new(metric: &'static Metric) -> Self {
        Family {
            metric,
            handles: RwLock::new(HashMap::with_hasher(FxBuildHasher)),
        }
    }

    /// Calls `f` with the series of `key`, registering it first if it is new.
    #[inline]
    pub(crate) fn with<R>(&self, key: K, f: impl FnOnce(&H) -> R) -> R {
        let backend = Backend::current();
        if !backend.caches() {
            return f(&H::register(backend, &self.key(key)));
        }
        {
            let handles = self.handles.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(handle) = handles.get(&key) {
                return f(handle);
            }
        }
        self.with_new(backend, key, f)
    }

    #[cold]
    fn with_new<R>(&self, backend: Backend, key: K, f: impl FnOnce(&H) -> R) -> R {
        let mut handles = self.handles.write().unwrap_or_else(PoisonError::into_inner);
        let handle = handles
            .entry(key)
            .or_insert_with(|| H::register(backend, &self.key(key)));
        f(handle)
    }

    fn key(&self, key: K) -> Key {
        Key::from_parts(self.metric.name, key.labels())
    }
}

/// Builds the label list of a key from `(name, value)` pairs, leaving out absent values.
pub(crate) fn labels<const N: usize>(pairs: [(&'static str, Option<Str>); N]) -> Vec<Label> {
    pairs
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| Label::from_static_parts(name, v.0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::CounterHandle;

    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    struct Tool(Str);

    impl LabelKey for Tool {
        fn labels(&self) -> Vec<Label> {
            labels([("tool", Some(self.0))])
        }
    }

    static FAMILY: Family<Tool, CounterHandle> = Family::new(&crate::catalog::RATE_LIMIT_HITS);

    #[test]
    fn a_local_recorder_sees_every_record_without_caching() {
        let recorder = metrics_util::debugging::DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            for _ in 0..3 {
                FAMILY.with(Tool(Str("a")), |c| c.add(2));
            }
        });
        let snapshot = snapshotter.snapshot().into_vec();
        assert_eq!(snapshot.len(), 1);
        let (key, _, _, value) = &snapshot[0];
        assert_eq!(key.key().name(), "mcp_rate_limit_hits_total");
        assert_eq!(
            value,
            &metrics_util::debugging::DebugValue::Counter(6),
            "three records of 2"
        );
        assert!(FAMILY.handles.read().unwrap().is_empty(), "nothing cached");
    }

    #[test]
    fn keys_compare_by_address() {
        let a = "same";
        let b = String::from("same").leak();
        assert_eq!(Str(a), Str(a));
        assert_ne!(Str(a), Str(b));
    }
}
