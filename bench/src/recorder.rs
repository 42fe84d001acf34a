//! The figures one benchmark run records: medians of repeated runs with their run counts,
//! ready to merge into `bench/results.json`.

use crate::{
    markdown::{format_value, RUNS_SUFFIX, RUNS_UNIT},
    results::{Metric, Results},
    stats::median,
};

/// Collects a run's metrics.
#[derive(Debug, Default)]
pub struct Recorder {
    /// What was recorded, by metric name.
    pub results: Results,
}

impl Recorder {
    /// Records the median of `samples` as `name` and their count as `name.runs`, and says
    /// so on stderr; records nothing (and says that) when there are no samples.
    pub fn record(&mut self, name: &str, samples: &[f64], unit: &str) {
        let Some(value) = median(samples) else {
            eprintln!("  {name}: no samples, not recorded");
            return;
        };
        self.results
            .insert(name.to_owned(), Metric::now(value, unit));
        self.results.insert(
            format!("{name}{RUNS_SUFFIX}"),
            Metric::now(samples.len() as f64, RUNS_UNIT),
        );
        eprintln!(
            "  {name} = {} {unit} (median of {} runs)",
            format_value(value),
            samples.len()
        );
    }

    /// Records a figure that is not a median (a workload's size).
    pub fn record_one(&mut self, name: &str, value: f64, unit: &str) {
        self.results
            .insert(name.to_owned(), Metric::now(value, unit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_come_with_their_run_counts_and_empty_samples_record_nothing() {
        let mut rec = Recorder::default();
        rec.record("x", &[3.0, 1.0, 2.0], "us");
        rec.record("empty", &[], "us");
        rec.record_one("size", 7.0, "rows");
        assert_eq!(rec.results["x"].value, 2.0);
        assert_eq!(rec.results[&format!("x{RUNS_SUFFIX}")].value, 3.0);
        assert_eq!(rec.results["size"].value, 7.0);
        assert!(!rec.results.contains_key("empty"));
    }
}
