#!/usr/bin/env bash
# Run the widget's browser tests (tests/browser.rs) in headless Chromium:
#
#   widget/test-browser.sh
#
# Needs chromedriver (Debian: chromium-driver; override with CHROMEDRIVER) and
# wasm-bindgen-test-runner, which comes with the wasm-bindgen-cli that
# build.sh installs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

driver="${CHROMEDRIVER:-$(command -v chromedriver || true)}"
if [ -z "$driver" ] || [ ! -x "$driver" ]; then
  echo "test-browser.sh: chromedriver not found (install chromium-driver or set CHROMEDRIVER)" >&2
  exit 1
fi
if ! command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
  echo "test-browser.sh: wasm-bindgen-test-runner not found: run widget/build.sh first (it installs wasm-bindgen-cli)" >&2
  exit 1
fi

cd "$here"
export CHROMEDRIVER="$driver"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
# With the default feature `yew` (the Yew component's test runs too), then
# as the shipped bundle is built (index.html): without it, with talc.
cargo test --locked -p widget --target wasm32-unknown-unknown --test browser
cargo test --locked -p widget --target wasm32-unknown-unknown --no-default-features --features talc --test browser
