#!/usr/bin/env bash
# Build the widget into widget/dist/ (release, size-optimised):
#
#   widget/build.sh
#
# Output (stable names): widget.js, widget_bg.wasm, loader.js,
# index.html + demo.js (a demo page). The first three are also copied to
# sdk/widget-dist/, the copy the SDK's `axum` feature embeds (committed, so
# that the SDK builds without this script; a test fails when it is stale).
# Idempotent: installs only what is
# missing, each tool at the exact version the build needs:
#   - the wasm32-unknown-unknown Rust target (rustup);
#   - trunk 0.21.14 (cargo install --locked);
#   - wasm-bindgen-cli at the wasm-bindgen version in Cargo.lock (cargo install);
#   - wasm-opt 132 from the npm package binaryen, into widget/.tools/ (git-ignored);
#   - terser (npm), which minifies wasm-bindgen's glue (widget.js), also there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0
TERSER_VERSION=5.51.4

say() { printf '==> %s\n' "$*" >&2; }

rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || { say "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; }

if [ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (takes several minutes)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi

bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock")"
if [ -z "$bindgen_version" ]; then
  echo "build.sh: no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version (takes a few minutes)"
  # --locked fails for this crate (a locked dependency is no longer in the index).
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi
if ! grep -q "wasm_bindgen = \"$bindgen_version\"" "$here/Trunk.toml"; then
  echo "build.sh: Trunk.toml must pin wasm_bindgen = \"$bindgen_version\" (Cargo.lock)" >&2
  exit 1
fi

tools="$here/.tools"
if [ ! -x "$tools/node_modules/.bin/wasm-opt" ] \
  || ! "$tools/node_modules/.bin/wasm-opt" --version | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into widget/.tools"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION"
fi
if [ "$("$tools/node_modules/.bin/terser" --version 2>/dev/null || true)" != "terser $TERSER_VERSION" ]; then
  say "installing terser $TERSER_VERSION into widget/.tools"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
    "binaryen@$BINARYEN_VERSION" "terser@$TERSER_VERSION"
fi
export PATH="$tools/node_modules/.bin:$PATH"

say "fetching crates"
cargo fetch --locked --manifest-path "$root/Cargo.toml" --target wasm32-unknown-unknown >&2

say "trunk build --release"
cd "$here"
trunk build --release --locked

dist="$here/dist"
for f in widget.js widget_bg.wasm loader.js; do
  [ -s "$dist/$f" ] || { echo "build.sh: missing $dist/$f" >&2; exit 1; }
done

# wasm-bindgen's glue is half comments and long names: a third of its
# gzipped size goes with minification. (trunk's own minifier cannot parse it.)
say "minifying widget.js (terser)"
terser "$dist/widget.js" --module --compress --mangle --output "$dist/widget.min.js"
mv "$dist/widget.min.js" "$dist/widget.js"

# The SDK embeds a copy of these files. A developer's build refreshes it; in
# CI (CI=true) the committed copy is left alone, so sdk/tests/widget_dist.rs
# can tell when it was not refreshed and committed.
shipped="$root/sdk/widget-dist"
if [ "${CI:-}" = "true" ]; then
  say "CI: sdk/widget-dist/ left as committed (sdk/tests/widget_dist.rs compares it)"
else
  mkdir -p "$shipped"
  for f in widget.js widget_bg.wasm loader.js; do
    cmp -s "$dist/$f" "$shipped/$f" || cp "$dist/$f" "$shipped/$f"
  done
  say "copied to sdk/widget-dist/ (commit it when it changed)"
fi

size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
wasm="$dist/widget_bg.wasm"
js="$dist/widget.js"
loader="$dist/loader.js"
printf '%-26s %10s %10s\n' file bytes gzip-9 >&2
for f in "$wasm" "$js" "$loader"; do
  printf '%-26s %10s %10s\n' "$(basename "$f")" "$(size "$f")" "$(gz "$f")" >&2
done
printf '%-26s %10s %10s\n' "total" \
  "$(( $(size "$wasm") + $(size "$js") + $(size "$loader") ))" \
  "$(( $(gz "$wasm") + $(gz "$js") + $(gz "$loader") ))" >&2
