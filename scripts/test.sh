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
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown -p gradlab-web --profile web-test -- -D warnings

echo "== native tests"
cargo test --workspace

echo "== the page in headless Chromium"
# Figures the page must reproduce, from the command line.
expected="$(cargo run --quiet -p gradlab-cli -- eval --mnist "$MNIST")"
echo "gradlab eval: $expected"
table="$(mktemp)"
cargo run --quiet -p gradlab-cli -- forecast --series assets/series/airpassengers.csv --log \
  --diff 12 --scale minmax --lookback 12 --test 24 --hidden 32 --epochs 20 > "$table"

dist="$CARGO_TARGET_DIR/gradlab-dist"
trunk build --release=true --dist "$dist"
GRADLAB_DIST="$dist" GRADLAB_EXPECTED_ACCURACY="$expected" GRADLAB_FORECAST_TABLE="$table" \
  node --test --test-concurrency=1 tests/browser/
