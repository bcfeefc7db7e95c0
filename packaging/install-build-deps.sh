#!/usr/bin/env bash
# Installs the Debian packages `npm run release` needs (osslsigncode,
# zstd, zip, binutils for strip, tar), skipping what is already there.
# Pass --wine to also install Wine for the optional Windows smoke test, or
# name tools to check only those (`npm run demo` needs just `strip tar`).
# Usage: bash packaging/install-build-deps.sh [--wine | TOOL...]
set -euo pipefail

declare -A tool_package=([osslsigncode]=osslsigncode [zstd]=zstd [zip]=zip [unzip]=unzip [strip]=binutils [tar]=tar)
if [ "${1:-}" = "--wine" ]; then
  tool_package[wine]="wine wine64"
elif [ $# -gt 0 ]; then
  declare -A wanted=()
  for tool in "$@"; do
    [ -n "${tool_package[$tool]:-}" ] || { echo "unknown tool $tool: use some of ${!tool_package[*]}" >&2; exit 2; }
    wanted[$tool]=${tool_package[$tool]}
  done
  unset tool_package
  declare -A tool_package=()
  for tool in "${!wanted[@]}"; do tool_package[$tool]=${wanted[$tool]}; done
fi

missing=()
for tool in "${!tool_package[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=(${tool_package[$tool]})
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "build tools present: ${!tool_package[*]}"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing packages: ${missing[*]}; this is not a Debian/Ubuntu system (no apt-get): install them with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "installing ${missing[*]} needs root: run this script as root" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing ${missing[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
