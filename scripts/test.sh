#!/usr/bin/env bash
# Runs every gradlab test: formatting and lints, the native tests (models, data, the committed
# weights on the real MNIST test set), then the built page in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gradlab-target}"
MNIST="${GRADLAB_MNIST:-../shared/data/mnist}"

scripts/setup.sh --browser

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings

echo "== native tests"
cargo test

echo "== the page in headless Chromium"
expected="$(cargo run --quiet -p gradlab-cli -- eval --mnist "$MNIST")"
echo "gradlab eval: $expected"
dist="$CARGO_TARGET_DIR/gradlab-dist"
trunk build --release=true --dist "$dist"
GRADLAB_DIST="$dist" GRADLAB_EXPECTED_ACCURACY="$expected" node --test tests/browser/
