//! Windows, rounds and their summaries: throughput, latency percentiles, median and spread.

use std::time::Duration;

use crate::cpu::CpuUse;

/// What one timed window measured.
#[derive(Debug, Clone)]
pub struct Window {
    /// Every completed call's latency in microseconds, sorted.
    latencies_us: Vec<u32>,
    elapsed: Duration,
    /// Whether a caller ran out of pre-built requests before the window's end.
    pub ended_early: bool,
    /// The CPU time the client and the server used over the window, where measured.
    pub cpu: CpuUse,
}

impl Window {
    /// A window of `latencies_us` over `elapsed`.
    pub fn new(mut latencies_us: Vec<u32>, elapsed: Duration, ended_early: bool) -> Window {
        latencies_us.sort_unstable();
        Window { latencies_us, elapsed, ended_early, cpu: CpuUse::default() }
    }

    /// The window with the CPU time measured over it.
    pub fn with_cpu(self, cpu: CpuUse) -> Window {
        Window { cpu, ..self }
    }

    /// CPU microseconds per completed call of `used`; NaN when not measured or no call completed.
    fn per_call_us(&self, used: Option<Duration>) -> f64 {
        match used {
            Some(used) if self.calls() > 0 => used.as_secs_f64() * 1e6 / self.calls() as f64,
            _ => f64::NAN,
        }
    }

    /// Completed calls.
    pub fn calls(&self) -> usize {
        self.latencies_us.len()
    }

    /// Completed calls per second.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { self.calls() as f64 / secs } else { 0.0 }
    }

    /// The `q` quantile (0..=1) of the latencies, in milliseconds (nearest rank).
    pub fn latency_ms(&self, q: f64) -> f64 {
        percentile(&self.latencies_us, q).map_or(f64::NAN, |us| f64::from(us) / 1000.0)
    }

    /// The summary kept per round.
    pub fn sample(&self) -> Sample {
        Sample {
            rate: self.rate(),
            p50_ms: self.latency_ms(0.50),
            p99_ms: self.latency_ms(0.99),
            ended_early: self.ended_early,
            client_cpu_us: self.per_call_us(self.cpu.client),
            server_cpu_us: self.per_call_us(self.cpu.server),
            stolen_pct: self.cpu.stolen_pct.unwrap_or(f64::NAN),
        }
    }
}

/// The nearest-rank `q` quantile of sorted `values`.
pub fn percentile(sorted: &[u32], q: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1).min(sorted.len() - 1)).copied()
}

/// One round of one side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Calls per second.
    pub rate: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Whether the window ended early (pre-signed requests ran out).
    pub ended_early: bool,
    /// The client process's CPU microseconds per call (NaN where not measured).
    pub client_cpu_us: f64,
    /// The server process's CPU microseconds per call (NaN where not measured).
    pub server_cpu_us: f64,
    /// The share of the machine's CPU time stolen by the hypervisor during the window, per cent
    /// (NaN where not measured).
    pub stolen_pct: f64,
}

/// Median, minimum and maximum of a set of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The median (mean of the two middle values for an even count).
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (NaN values ignored); `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
        Some(Spread { median, min: v[0], max: v[n - 1] })
    }
}

/// Both sides of one comparison row, round by round (`a[i]` and `b[i]` measured back to back).
#[derive(Debug, Clone, Default)]
pub struct Rounds {
    /// Side A's rounds.
    pub a: Vec<Sample>,
    /// Side B's rounds.
    pub b: Vec<Sample>,
}

impl Rounds {
    /// The spread of `field` over A's rounds.
    pub fn a_spread(&self, field: fn(&Sample) -> f64) -> Option<Spread> {
        Spread::of(self.a.iter().map(field))
    }

    /// The spread of `field` over B's rounds.
    pub fn b_spread(&self, field: fn(&Sample) -> f64) -> Option<Spread> {
        Spread::of(self.b.iter().map(field))
    }

    /// The spread of the per-round ratios A/B of `field`.
    pub fn ratio_spread(&self, field: fn(&Sample) -> f64) -> Option<Spread> {
        Spread::of(self.a.iter().zip(&self.b).map(|(a, b)| field(a) / field(b)))
    }

    /// Whether any window ended early.
    pub fn any_ended_early(&self) -> bool {
        self.a.iter().chain(&self.b).any(|s| s.ended_early)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), Some(50));
        assert_eq!(percentile(&v, 0.99), Some(99));
        assert_eq!(percentile(&v, 1.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.99), Some(7));
    }

    #[test]
    fn spreads() {
        assert_eq!(Spread::of([3.0, 1.0, 2.0]), Some(Spread { median: 2.0, min: 1.0, max: 3.0 }));
        assert_eq!(Spread::of([4.0, 1.0, 2.0, 3.0]), Some(Spread { median: 2.5, min: 1.0, max: 4.0 }));
        assert_eq!(Spread::of([f64::NAN]), None);
        assert_eq!(Spread::of(Vec::new()), None);
    }

    #[test]
    fn window_rates() {
        let w = Window::new(vec![3000, 1000, 2000, 4000], Duration::from_secs(2), false);
        assert_eq!(w.calls(), 4);
        assert!((w.rate() - 2.0).abs() < 1e-9);
        assert!((w.latency_ms(0.5) - 2.0).abs() < 1e-9);
        let r = Rounds { a: vec![w.sample()], b: vec![Window::new(vec![1000], Duration::from_secs(1), true).sample()] };
        assert!(r.any_ended_early());
        assert_eq!(r.ratio_spread(|s| s.rate).map(|s| s.median), Some(2.0));
    }
}
