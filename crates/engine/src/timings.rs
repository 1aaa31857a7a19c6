//! Where a command's wall time goes, for profiling on a user's machine: with
//! `KUBEHARDEN_TIMINGS=1` in the environment, each [`mark`] prints to stderr the milliseconds
//! since [`start`] (or since the first mark), the milliseconds since the previous mark, and its
//! label. Without it a mark costs one atomic load. Not a report: nothing else reads these lines.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Instant;

struct Clock {
    start: Instant,
    last: Mutex<Instant>,
}

fn clock() -> Option<&'static Clock> {
    static CLOCK: OnceLock<Option<Clock>> = OnceLock::new();
    CLOCK
        .get_or_init(|| {
            let on =
                std::env::var_os("KUBEHARDEN_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0");
            on.then(|| {
                let now = Instant::now();
                Clock {
                    start: now,
                    last: Mutex::new(now),
                }
            })
        })
        .as_ref()
}

/// Starts the clock (the first [`mark`] starts it otherwise).
pub fn start() {
    clock();
}

/// `timings: 12.3 ms (+4.5) label` on stderr, when timings are on.
pub fn mark(label: &str) {
    if let Some(c) = clock() {
        let now = Instant::now();
        let mut last = c.last.lock().unwrap_or_else(|e| e.into_inner());
        let since = now.duration_since(*last);
        *last = now;
        eprintln!(
            "timings: {:8.1} ms (+{:.1}) {label}{}",
            now.duration_since(c.start).as_secs_f64() * 1e3,
            since.as_secs_f64() * 1e3,
            memory()
        );
    }
}

/// Bytes the global allocator has handed out and not got back, kept by a build with the CLI's
/// `alloc-count` feature (its allocator counts; `COUNTING` says so): beside the resident size,
/// what is in use and what is the allocator's own (freed pages it holds, partly used pages).
pub static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
/// The most [`LIVE_BYTES`] reached since the previous [`mark`].
pub static PEAK_LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
pub static COUNTING: AtomicBool = AtomicBool::new(false);

/// `  [RSS 123 MB, peak 150 MB]` from `/proc/self/status` (Linux), with `, live 98 MB, at most
/// 120 MB since the last step` when the allocator counts ([`LIVE_BYTES`]), or nothing: where a
/// large scan's memory goes, beside where its time goes.
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    let (Some(rss), Some(peak)) = (field("VmRSS:"), field("VmHWM:")) else {
        return String::new();
    };
    let live = if COUNTING.load(Ordering::Relaxed) {
        let now = LIVE_BYTES.load(Ordering::Relaxed).max(0);
        let peak = PEAK_LIVE_BYTES.swap(now, Ordering::Relaxed).max(now);
        format!(
            ", live {} MB, at most {} MB since the last step",
            now >> 20,
            peak >> 20
        )
    } else {
        String::new()
    };
    format!("  [RSS {} MB, peak {} MB{live}]", rss / 1024, peak / 1024)
}

/// The busy time of each thread in a parallel phase, and the time each sat idle at its end
/// waiting for the others (the tail a long last input makes): one [`Work::item`] guard per input.
pub struct Work {
    /// (rayon thread index, start, end) per item; empty when timings are off.
    items: Option<Mutex<Vec<(usize, Instant, Instant)>>>,
    start: Instant,
}

/// Records one item's span on drop.
pub struct Item<'w> {
    work: &'w Work,
    start: Instant,
}

impl Work {
    pub fn new() -> Work {
        Work {
            items: clock().map(|_| Mutex::new(Vec::new())),
            start: Instant::now(),
        }
    }

    pub fn item(&self) -> Option<Item<'_>> {
        self.items.as_ref().map(|_| Item {
            work: self,
            start: Instant::now(),
        })
    }

    /// `timings: phase: thread 0 busy 250.1 ms, idle at the end 12.0 ms; …` on stderr.
    pub fn report(&self, label: &str) {
        let Some(items) = &self.items else { return };
        let items = items.lock().unwrap_or_else(|e| e.into_inner());
        let end = Instant::now();
        let mut threads: std::collections::BTreeMap<usize, (f64, Instant)> = Default::default();
        for (t, s, e) in items.iter() {
            let entry = threads.entry(*t).or_insert((0.0, *e));
            entry.0 += e.duration_since(*s).as_secs_f64() * 1e3;
            entry.1 = entry.1.max(*e);
        }
        let per: Vec<String> = threads
            .iter()
            .map(|(t, (busy, last))| {
                format!(
                    "thread {t} busy {busy:.1} ms, idle at the end {:.1} ms",
                    end.duration_since(*last).as_secs_f64() * 1e3
                )
            })
            .collect();
        eprintln!(
            "timings: {label}: {} items in {:.1} ms; {}",
            items.len(),
            end.duration_since(self.start).as_secs_f64() * 1e3,
            per.join("; ")
        );
    }
}

impl Default for Work {
    fn default() -> Self {
        Work::new()
    }
}

impl Drop for Item<'_> {
    fn drop(&mut self) {
        if let Some(items) = &self.work.items {
            let t = rayon::current_thread_index().unwrap_or(usize::MAX);
            items
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((t, self.start, Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    /// The resident size and its peak, read from `/proc/self/status`; the bytes in use only
    /// when an allocator counts them (not in the tests' build).
    #[cfg(target_os = "linux")]
    #[test]
    fn memory_is_the_resident_size_and_its_peak() {
        let m = super::memory();
        let inner = m
            .strip_prefix("  [RSS ")
            .and_then(|m| m.strip_suffix(" MB]"))
            .expect(&m);
        let (rss, peak) = inner.split_once(" MB, peak ").expect(&m);
        let (rss, peak): (u64, u64) = (rss.parse().unwrap(), peak.parse().unwrap());
        assert!(rss > 0 && peak >= rss, "{m}");
    }
}
