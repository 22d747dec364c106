#!/usr/bin/env bash
# Installs what is missing, then builds gradlab and serves it on http://127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gradlab-target}"

scripts/setup.sh
exec trunk serve --release=true
