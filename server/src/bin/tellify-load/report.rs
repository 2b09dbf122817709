//! Figures: latency samples, durations on the command line, and the report
//! printed at the end of each command (human lines, or one JSON object).

use std::time::Duration;

use serde_json::{Map, Value};

/// Latency samples in microseconds (`u32`: up to 71 minutes, 4 bytes each,
/// so a million samples cost 4 MB and one sort).
#[derive(Debug, Default)]
pub struct Latencies {
    micros: Vec<u32>,
    sorted: bool,
}

impl Latencies {
    pub fn record(&mut self, d: Duration) {
        self.micros
            .push(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
        self.sorted = false;
    }

    pub fn merge(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
        self.sorted = false;
    }

    pub fn len(&self) -> usize {
        self.micros.len()
    }

    /// The `q` quantile (0..=1) in milliseconds, nearest rank; 0 when empty.
    pub fn quantile_ms(&mut self, q: f64) -> f64 {
        if self.micros.is_empty() {
            return 0.0;
        }
        if !self.sorted {
            self.micros.sort_unstable();
            self.sorted = true;
        }
        let rank = (q * self.micros.len() as f64).ceil() as usize;
        let i = rank.clamp(1, self.micros.len()) - 1;
        f64::from(self.micros[i]) / 1000.0
    }
}

/// `10s`, `500ms`, `2m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (e.g. 10s, 500ms, 2m)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("'{s}' is not a duration"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

/// What a command measured, in the order it is printed.
#[derive(Debug)]
pub struct Report {
    command: &'static str,
    fields: Vec<Field>,
}

#[derive(Debug)]
struct Field {
    key: String,
    label: String,
    value: Value,
    unit: &'static str,
}

impl Report {
    pub fn new(command: &'static str) -> Report {
        Report {
            command,
            fields: Vec::new(),
        }
    }

    /// A figure: `key` names it in the JSON, `label` in the human line.
    pub fn add(&mut self, key: &str, label: &str, value: impl Into<Value>, unit: &'static str) {
        self.fields.push(Field {
            key: key.to_owned(),
            label: label.to_owned(),
            value: value.into(),
            unit,
        });
    }

    /// A rate or time rounded to one decimal, which is all the precision a
    /// benchmark on a shared machine has.
    pub fn add_f(&mut self, key: &str, label: &str, value: f64, unit: &'static str) {
        self.add(key, label, (value * 10.0).round() / 10.0, unit);
    }

    /// Latency quantiles under `prefix_p50_ms` and so on.
    pub fn add_latencies(&mut self, prefix: &str, what: &str, lat: &mut Latencies, qs: &[f64]) {
        for &q in qs {
            let name = if q >= 1.0 {
                "max".to_owned()
            } else {
                format!("p{}", (q * 100.0).round())
            };
            let v = (lat.quantile_ms(q) * 100.0).round() / 100.0;
            self.add(
                &format!("{prefix}_{name}_ms"),
                &format!("{what} {name}"),
                v,
                "ms",
            );
        }
    }

    /// Human lines on stdout; with `json`, the human lines go to stderr and
    /// one JSON object to stdout, for scripts.
    pub fn print(&self, json: bool) {
        let width = self.fields.iter().map(|f| f.label.len()).max().unwrap_or(0);
        let mut human = format!("== {}\n", self.command);
        for f in &self.fields {
            let value = match &f.value {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            human.push_str(&format!("  {:width$}  {value} {}\n", f.label, f.unit));
        }
        if json {
            eprint!("{human}");
            let mut obj = Map::new();
            obj.insert("command".into(), self.command.into());
            for f in &self.fields {
                obj.insert(f.key.clone(), f.value.clone());
            }
            println!("{}", Value::Object(obj));
        } else {
            print!("{human}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let mut l = Latencies::default();
        for ms in 1..=100 {
            l.record(Duration::from_millis(ms));
        }
        assert_eq!(l.quantile_ms(0.5), 50.0);
        assert_eq!(l.quantile_ms(0.99), 99.0);
        assert_eq!(l.quantile_ms(1.0), 100.0);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("soon").is_err());
    }
}
