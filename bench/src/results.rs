//! `bench/results.json`: an object from metric name to `{value, unit, machine, when}`.
//!
//! Each benchmark merges its metrics into the file, so partial runs keep the figures of the
//! parts they did not measure, and every figure says which machine produced it and when.

use std::{collections::BTreeMap, fs, io, path::Path, time::SystemTime};

use serde::{Deserialize, Serialize};

/// One measured figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// The figure (a median over repeated runs unless its name says otherwise).
    pub value: f64,
    /// Its unit, e.g. `us`, `tx/s`, `gas`.
    pub unit: String,
    /// The machine it was measured on (see [`machine_description`]).
    pub machine: String,
    /// When it was measured (RFC 3339, UTC).
    pub when: String,
}

impl Metric {
    /// A metric measured now on this machine.
    pub fn now(value: f64, unit: &str) -> Self {
        Self {
            value,
            unit: unit.to_owned(),
            machine: machine_description(),
            when: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        }
    }
}

/// All metrics, ordered by name so the file diffs cleanly.
pub type Results = BTreeMap<String, Metric>;

/// Merges `new` into the results file at `path` (created if absent), replacing metrics of
/// the same name and keeping the others.
pub fn merge_into_file(path: &Path, new: Results) -> io::Result<Results> {
    let mut results: Results = match fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(io::Error::other)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Results::new(),
        Err(e) => return Err(e),
    };
    results.extend(new);
    fs::write(
        path,
        serde_json::to_string_pretty(&results).map_err(io::Error::other)? + "\n",
    )?;
    Ok(results)
}

/// "CPU model, N logical CPUs": enough to tell a laptop figure from a server's.
pub fn machine_description() -> String {
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {cpus} logical CPUs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_replaces_same_names_and_keeps_others() {
        let dir = std::env::temp_dir().join(format!("bench-results-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("results.json");
        let _ = fs::remove_file(&path);

        merge_into_file(&path, Results::from([("a".into(), Metric::now(1.0, "us"))])).unwrap();
        merge_into_file(
            &path,
            Results::from([("b".into(), Metric::now(2.0, "tx/s"))]),
        )
        .unwrap();
        let merged =
            merge_into_file(&path, Results::from([("a".into(), Metric::now(3.0, "us"))])).unwrap();

        let on_disk: Results = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(on_disk, merged);
        assert_eq!(on_disk["a"].value, 3.0);
        assert_eq!(on_disk["b"].unit, "tx/s");
        assert!(on_disk["a"].when.ends_with('Z') && on_disk["a"].machine.contains("logical CPUs"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
