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
