//! The printed table and the JSON file with the same numbers.

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Percentiles {
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
}

impl Percentiles {
    pub(crate) fn of(h: &Histogram<u64>) -> Self {
        let ms = |v: u64| v as f64 / 1e6;
        if h.is_empty() {
            return Self::default();
        }
        Self {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }

    /// Gateway minus direct, per percentile.
    pub(crate) fn minus(self, other: Self) -> Self {
        Self {
            p50: self.p50 - other.p50,
            p90: self.p90 - other.p90,
            p99: self.p99 - other.p99,
            max: self.max - other.max,
        }
    }

    pub(crate) fn json(self) -> Value {
        json!({"p50_ms": round(self.p50), "p90_ms": round(self.p90), "p99_ms": round(self.p99), "max_ms": round(self.max)})
    }
}

pub(crate) fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// A fixed-width text table.
pub(crate) struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(title: &str, header: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::from("|");
            for (cell, w) in cells.iter().zip(&widths) {
                out.push_str(&format!(" {cell:>w$} |"));
            }
            out
        };
        let mut out = format!("\n{}\n{}\n|", self.title, line(&self.header));
        for w in &widths {
            out.push_str(&format!("{}|", "-".repeat(w + 2)));
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }
}

/// Milliseconds with three decimals.
pub(crate) fn ms(v: f64) -> String {
    format!("{v:.3}")
}
