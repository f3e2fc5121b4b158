//! `cargo test` on the host cannot run the widget's browser suite
//! (`tests/browser.rs` compiles only for wasm32): this test is here so the
//! run says so instead of passing over it without a word.

#[cfg(not(target_arch = "wasm32"))]
#[test]
#[expect(
    clippy::print_stderr,
    reason = "the note is the point: it shows in the output of `cargo test`"
)]
fn browser_suite_runs_in_chromium_with_widget_test_browser_sh() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-browser.sh");
    assert!(
        script.is_file(),
        "{} runs tests/browser.rs in headless Chromium",
        script.display()
    );
    eprintln!(
        "note: the widget's browser tests (widget/tests/browser.rs) are not part of \
         `cargo test`; run widget/test-browser.sh (./scripts/test does)"
    );
}
