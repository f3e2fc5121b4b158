//! Usage per day as a table (CSV) and as charts drawn here, as SVG: no
//! chart library, nothing loaded from another host.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use time::Date;

use super::export::csv_field;
use crate::store::console::DailyUsage;

/// The CSV of `rows`, one line per day, system and agent.
pub fn csv(rows: &[DailyUsage]) -> String {
    let mut out = String::from(
        "day,system_id,agent,conversations,messages,active_users,failures,latency_p50_ms,latency_p95_ms,ttft_p50_ms,ttft_p95_ms,prompt_tokens,completion_tokens\n",
    );
    let opt = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    for r in rows {
        let _ = write!(out, "{},", r.day);
        csv_field(&mut out, &r.system_id);
        out.push(',');
        csv_field(&mut out, r.agent.as_deref().unwrap_or_default());
        let _ = writeln!(
            out,
            ",{},{},{},{},{},{},{},{},{},{}",
            r.conversations,
            r.messages,
            r.active_users,
            r.failures,
            opt(r.latency_p50_ms),
            opt(r.latency_p95_ms),
            opt(r.ttft_p50_ms),
            opt(r.ttft_p95_ms),
            r.prompt_tokens,
            r.completion_tokens
        );
    }
    out
}

/// `value` of every row summed per day, in day order.
pub fn per_day(rows: &[DailyUsage], value: impl Fn(&DailyUsage) -> u64) -> Vec<(Date, u64)> {
    let mut days: BTreeMap<Date, u64> = BTreeMap::new();
    for r in rows {
        *days.entry(r.day).or_default() += value(r);
    }
    days.into_iter().collect()
}

/// A bar chart of `points` with an accessible title; each bar has a
/// `<title>` with its day and value, and `data-value` for tests.
pub fn bar_chart(title: &str, points: &[(Date, u64)]) -> String {
    const W: u32 = 640;
    const H: u32 = 200;
    const PAD: u32 = 24;
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1);
    let n = u32::try_from(points.len()).unwrap_or(u32::MAX).max(1);
    let slot = (W - 2 * PAD) / n;
    let bar = slot.saturating_sub(2).max(1);
    let title = escape(title);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"t\" class=\"chart\"><title id=\"t\">{title}</title>"
    );
    let _ = write!(
        svg,
        "<line x1=\"{PAD}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"currentColor\"/>",
        y = H - PAD,
        x2 = W - PAD
    );
    for (i, (day, value)) in points.iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(0);
        let height = u32::try_from(u64::from(H - 2 * PAD) * value / max).unwrap_or(0);
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{bar}\" height=\"{height}\" fill=\"#1f5fbf\" data-day=\"{day}\" data-value=\"{value}\"><title>{day}: {value}</title></rect>",
            x = PAD + i * slot,
            y = H - PAD - height,
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{PAD}\" y=\"16\" font-size=\"12\" fill=\"currentColor\">max {max}</text></svg>"
    );
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn usage(day: Date, system: &str, messages: u64) -> DailyUsage {
        DailyUsage {
            day,
            system_id: system.into(),
            agent: None,
            conversations: 1,
            messages,
            active_users: 1,
            failures: 0,
            latency_p50_ms: Some(120),
            latency_p95_ms: None,
            ttft_p50_ms: None,
            ttft_p95_ms: None,
            prompt_tokens: 3,
            completion_tokens: 4,
        }
    }

    #[test]
    fn days_sum_over_systems_and_bars_carry_their_values() {
        let rows = [
            usage(date!(2026 - 11 - 30), "a", 4),
            usage(date!(2026 - 11 - 30), "b", 6),
            usage(date!(2026 - 12 - 01), "a", 5),
        ];
        let days = per_day(&rows, |r| r.messages);
        assert_eq!(
            days,
            [(date!(2026 - 11 - 30), 10), (date!(2026 - 12 - 01), 5)]
        );
        let svg = bar_chart("Messages <per day>", &days);
        assert!(svg.contains("data-value=\"10\""));
        assert!(svg.contains("data-value=\"5\""));
        assert!(svg.contains("Messages &lt;per day&gt;"));
        let csv = csv(&rows);
        assert_eq!(csv.lines().count(), 4);
        assert!(
            csv.contains("\n2026-11-30,b,,1,6,1,0,120,,,,3,4\n"),
            "{csv}"
        );
    }
}
