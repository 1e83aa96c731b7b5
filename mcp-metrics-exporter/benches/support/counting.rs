//! The counting global allocator of the benches that report heap bytes: live bytes and their
//! high-water mark, counted beside the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// Forwards every call to the system allocator, counting the bytes it holds.
pub(crate) struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// Live heap bytes.
pub(crate) fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Starts a new high-water mark at the live bytes, and returns them.
#[allow(dead_code, reason = "not every bench reads the high-water mark")]
pub(crate) fn restart_peak() -> isize {
    let live = live();
    PEAK.store(live, Ordering::Relaxed);
    live
}

/// The most live heap bytes since the last [`restart_peak`].
#[allow(dead_code, reason = "not every bench reads the high-water mark")]
pub(crate) fn peak() -> isize {
    PEAK.load(Ordering::Relaxed)
}

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes as isize, Ordering::Relaxed) + bytes as isize;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes as isize, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        new
    }
}
