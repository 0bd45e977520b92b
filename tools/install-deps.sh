#!/usr/bin/env bash
# Installs what voxbridge needs to build, test and run its demo on Debian 12.
# Safe to run again: it only calls apt-get when a package is missing.
set -euo pipefail

packages=(
  # build
  build-essential pkg-config meson ninja-build python3
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libsoup-3.0-dev libjson-glib-dev libssl-dev libgtest-dev
  libsofia-sip-ua-dev libsofia-sip-ua-glib-dev
  libspandsp-dev libespeak-ng-dev
  # run time
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-nice gstreamer1.0-tools glib-networking
  # demo and tests: speech, audio checks, real SIP peers, certificates
  espeak-ng sox sip-tester baresip openssl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
