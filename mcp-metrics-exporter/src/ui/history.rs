//! The page's short history of readings. Rates and quantiles are differences between the
//! reading of a refresh and an older one, up to a minute old, as `rate(..[1m])` takes them.
//!
//! The history is filled by the refreshes themselves: nothing is read while nobody looks. Its
//! first entry is the empty reading at the registry's start, so the first refresh of a young
//! process shows everything since the start. After a pause, the first refreshes compare with the
//! last reading before it until a newer one is at least [`MIN_WINDOW`] old.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::read::Counts;

/// The longest window rates and quantiles are taken over.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
/// The shortest window a reading older than [`WINDOW`] is given up for.
pub(crate) const MIN_WINDOW: Duration = Duration::from_secs(10);
/// Readings closer than this to the newest one kept are not kept: the history holds at most
/// `WINDOW / SPACING + 2` readings, however many pages refresh.
pub(crate) const SPACING: Duration = Duration::from_secs(5);

/// The readings kept, oldest first; never empty.
#[derive(Debug)]
pub(crate) struct History {
    readings: VecDeque<Arc<Counts>>,
    start: Instant,
}

/// The older reading a refresh is compared with.
#[derive(Debug)]
pub(crate) struct Baseline {
    /// The reading.
    pub(crate) counts: Arc<Counts>,
    /// Whether it is the empty reading at the registry's start.
    pub(crate) from_start: bool,
}

impl History {
    /// A history holding the empty reading at `start`, when the registry was created.
    pub(crate) fn new(start: Instant) -> Self {
        Self {
            readings: VecDeque::from([Arc::new(Counts::empty(start))]),
            start,
        }
    }

    /// Forgets readings that are too old, keeps `now` when it is far enough from the newest,
    /// and returns the reading to compare `now` with.
    pub(crate) fn baseline(&mut self, now: &Arc<Counts>) -> Baseline {
        let age = |counts: &Counts| now.at.saturating_duration_since(counts.at);
        while let (Some(oldest), Some(next)) = (self.readings.front(), self.readings.get(1)) {
            if age(oldest) > WINDOW && age(next) >= MIN_WINDOW {
                self.readings.pop_front();
            } else {
                break;
            }
        }
        let counts = self
            .readings
            .front()
            .cloned()
            .unwrap_or_else(|| Arc::new(Counts::empty(self.start)));
        let from_start = counts.at == self.start;
        if self
            .readings
            .back()
            .is_none_or(|newest| age(newest) >= SPACING)
        {
            self.readings.push_back(now.clone());
        }
        Baseline { counts, from_start }
    }

    /// How many readings are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.readings.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, secs: u64) -> Arc<Counts> {
        Arc::new(Counts::empty(start + Duration::from_secs(secs)))
    }

    /// The age of the baseline of a refresh at `secs`.
    fn window(history: &mut History, start: Instant, secs: u64) -> (u64, bool) {
        let now = at(start, secs);
        let base = history.baseline(&now);
        ((now.at - base.counts.at).as_secs(), base.from_start)
    }

    #[test]
    fn a_young_process_is_shown_since_its_start() {
        let start = Instant::now();
        let mut history = History::new(start);
        for secs in [3, 5, 7, 30, 59] {
            assert_eq!(window(&mut history, start, secs), (secs, true));
        }
    }

    #[test]
    fn steady_refreshes_slide_a_minute_window() {
        let start = Instant::now();
        let mut history = History::new(start);
        for secs in (2..=300).step_by(2) {
            let (age, from_start) = window(&mut history, start, secs);
            if secs <= 60 {
                assert_eq!((age, from_start), (secs, true));
            } else {
                assert!((55..=60).contains(&age), "at {secs} s: window {age} s");
                assert!(!from_start);
            }
        }
        assert!(history.len() <= 14, "{} readings kept", history.len());
    }

    #[test]
    fn after_a_pause_the_window_restarts_at_the_last_look() {
        let start = Instant::now();
        let mut history = History::new(start);
        window(&mut history, start, 100);
        // Two hours later: compared with the reading before the pause, until a newer reading
        // is at least MIN_WINDOW old.
        assert_eq!(window(&mut history, start, 7300).0, 7200);
        assert_eq!(window(&mut history, start, 7302).0, 7202);
        assert_eq!(window(&mut history, start, 7310).0, 10);
        assert_eq!(window(&mut history, start, 7330).0, 30);
    }

    #[test]
    fn many_pages_refreshing_at_once_keep_a_bounded_history() {
        let start = Instant::now();
        let mut history = History::new(start);
        for millis in (0..600_000).step_by(50) {
            let now = Arc::new(Counts::empty(start + Duration::from_millis(millis)));
            history.baseline(&now);
        }
        let bound = (WINDOW.as_secs() / SPACING.as_secs() + 2) as usize;
        assert!(history.len() <= bound, "{} > {bound}", history.len());
    }
}
