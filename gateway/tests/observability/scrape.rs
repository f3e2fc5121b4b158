//! `/metrics` read as Prometheus reads it.

use std::time::Duration;

use prometheus_parse::{Scrape, Value};

/// The parsed text of `GET {url}/metrics` (with `token` as a bearer).
pub(crate) async fn scrape(url: &str, token: Option<&str>) -> Scrape {
    let mut req = reqwest::Client::new().get(format!("{url}/metrics"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.contains("text"), "{content_type}");
    let text = resp.text().await.unwrap();
    parse(&text)
}

pub(crate) fn parse(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample named `metric` whose labels include `labels`;
/// 0 when there is none yet (a series appears at its first event).
pub(crate) fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<f64> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            ref other => panic!("{metric} is not a number: {other:?}"),
        })
        .collect();
    assert!(
        matching.len() <= 1,
        "{metric} {labels:?} matches several series"
    );
    matching.first().copied().unwrap_or(0.0)
}

/// Scrape until `metric{labels}` is `want` (a gauge moves when the server
/// gets to it, not when the client has sent its request).
pub(crate) async fn until(url: &str, metric: &str, labels: &[(&str, &str)], want: f64) {
    let mut last = f64::NAN;
    for _ in 0..500 {
        last = value(&scrape(url, None).await, metric, labels);
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{metric} {labels:?} stayed {last}, never {want}");
}

/// The value of the series `metric` with all of `labels`, read from the
/// text line by line (for label values holding `{` or `}`); 0 when absent.
pub(crate) fn raw_value(text: &str, metric: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")))
        .filter(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
