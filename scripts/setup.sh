#!/usr/bin/env bash
# Installs hubpoll's build dependencies from Debian 12 packages and builds
# it in ./build. Run as root (or with sudo) from anywhere in the checkout.
# HUBPOLL_WERROR=ON turns compiler warnings into errors.
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
  cmake g++ make pkg-config
  libcurl4-openssl-dev rapidjson-dev libhowardhinnant-date-dev
  libsqlite3-dev catch2 libcli11-dev libcpp-httplib-dev libssl-dev
  tzdata ca-certificates
)

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
else
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHUBPOLL_WERROR="${HUBPOLL_WERROR:-OFF}"
cmake --build build -j"$(nproc)"
