//! The widget files this crate embeds (`widget-dist/`, served by the `axum`
//! feature) must be the ones a fresh `widget/build.sh` produces in
//! `widget/dist/`. That script refreshes the copy; this test fails when it
//! was not run (or its result not committed) after a change to the widget
//! or to what it compiles in from this crate.

use std::path::Path;

#[test]
fn the_embedded_widget_is_the_freshly_built_one() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dist = crate_dir.join("../widget/dist");
    for name in ["loader.js", "widget.js", "widget_bg.wasm"] {
        let built = std::fs::read(dist.join(name)).unwrap_or_else(|e| {
            panic!("widget/dist/{name}: {e}. Build the widget first: widget/build.sh")
        });
        let shipped = std::fs::read(crate_dir.join("widget-dist").join(name)).unwrap_or_else(|e| {
            panic!("sdk/widget-dist/{name}: {e}. Run widget/build.sh, which copies it")
        });
        assert!(
            built == shipped,
            "sdk/widget-dist/{name} differs from widget/dist/{name}: run widget/build.sh \
             (it refreshes sdk/widget-dist/) and commit the result"
        );
    }
}

/// The loader paints the launcher before any WASM loads, so its accessible
/// name is the one the widget gives it afterwards: the SDK's `UiTexts::open`.
#[test]
fn the_loader_names_the_launcher_as_the_widget_does() {
    let loader = include_str!("../widget-dist/loader.js");
    for lang in tz_chat_sdk::Lang::ALL {
        let line = format!(
            "  {lang}: \"{}\",",
            tz_chat_sdk::UiTexts::for_lang(lang).open
        );
        assert!(
            loader.lines().any(|l| l == line),
            "loader.js must name the launcher as UiTexts does: {line}"
        );
    }
}

/// gzip -9 size of a file of `widget-dist/`.
fn gzipped(name: &str) -> usize {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("widget-dist")
        .join(name);
    let gzip = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("gzip (a system tool) runs: {e}"));
    assert!(gzip.status.success(), "gzip {name}");
    gzip.stdout.len()
}

/// The whole widget (loader, glue, wasm) as a visitor downloads it. The
/// target is 100 KiB gzipped; this budget is what the widget has reached
/// (see BENCHMARKS.md, "Widget"), so that it only moves down.
#[test]
fn the_whole_widget_stays_within_its_gzipped_budget() {
    const BUDGET: usize = 65_000;
    let total: usize = ["loader.js", "widget.js", "widget_bg.wasm"]
        .into_iter()
        .map(gzipped)
        .sum();
    assert!(
        total <= BUDGET,
        "the widget is {total} bytes gzipped; the budget is {BUDGET}"
    );
}

/// The page pays for the launcher before the widget loads: the loader stays
/// within 5 KB gzipped (script and style; it has no other file).
#[test]
fn the_loader_fits_in_five_kilobytes_gzipped() {
    let loader = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("widget-dist/loader.js");
    let gzip = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(&loader)
        .output()
        .unwrap_or_else(|e| panic!("gzip (a system tool) runs: {e}"));
    assert!(gzip.status.success());
    assert!(
        gzip.stdout.len() <= 5_000,
        "loader.js is {} bytes gzipped; the budget is 5,000",
        gzip.stdout.len()
    );
}
