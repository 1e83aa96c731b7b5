//! Label values given at run time, kept once as `&'static str` up to a bound: model names of the
//! helpers, tool and prompt names the request layer learns.

use rustc_hash::FxBuildHasher;
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

/// The most distinct strings [`intern`] keeps; later ones are `_OTHER`.
pub(crate) const MAX_INTERNED: usize = 10_000;

/// A label value given at run time (a model name), as a `&'static str`: the first
/// [`MAX_INTERNED`] distinct values are kept for the life of the program, any further one is
/// `_OTHER`, so that values from data cannot grow memory or series without bound.
pub(crate) fn intern(value: &str) -> &'static str {
    static VALUES: RwLock<HashMap<Box<str>, &'static str, FxBuildHasher>> =
        RwLock::new(HashMap::with_hasher(FxBuildHasher));
    if let Some(v) = VALUES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(value)
    {
        return v;
    }
    let mut values = VALUES.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(v) = values.get(value) {
        return v;
    }
    if values.len() >= MAX_INTERNED {
        return crate::names::OTHER;
    }
    let kept: &'static str = Box::leak(value.into());
    values.insert(value.into(), kept);
    kept
}
