#!/usr/bin/env bash
# Installs whatever gradlab's build is missing, and skips what is already there:
# the wasm32 target, wasm-bindgen-cli (the version in Cargo.lock) and Trunk.
# With --browser it also installs Debian's chromium and chromium-driver for the browser tests.
#
# Compiling Trunk and wasm-bindgen-cli from source takes 15-25 minutes on a 2-core machine;
# it happens once.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  # Not --locked: its lockfile pins a webpki-roots release that the registry no longer serves.
  cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  # Trunk 0.22 needs a newer rustc than 1.95.
  cargo install trunk@"$TRUNK_VERSION" --locked
fi

if [ "${1:-}" = "--browser" ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    sudo_if_needed=""
    [ "$(id -u)" -eq 0 ] || sudo_if_needed="sudo"
    $sudo_if_needed apt-get update
    $sudo_if_needed apt-get install -y chromium chromium-driver
  fi
fi
