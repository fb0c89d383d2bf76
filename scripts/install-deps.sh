#!/usr/bin/env bash
# Installs every Debian 12 package greenfork builds, tests and benchmarks with.
# Idempotent and non-interactive: packages already present are skipped, and
# apt-get is only called when something is missing.
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libasio-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  node-llhttp libcli11-dev libtomlplusplus-dev python3-dev
  libssl-dev zlib1g-dev
  libnghttp2-dev
)
test_pkgs=(
  python3-flask python3-django python3-pytest curl wrk nodejs clang libclang-rt-14-dev procps psmisc iproute2
  python3-matplotlib
  haproxy
  python3-websockets
  python3-prometheus-client prometheus chromium jq
  python3-httpx python3-starlette python3-fastapi python3-uvloop
  openssl
  python3-pastedeploy
  python3-yaml
  nginx-light
  python3-tornado python3-aiohttp
  python3-gevent python3-eventlet
  nghttp2-client python3-h2
  python3-quart
)
bench_pkgs=(
  gunicorn python3-gevent uwsgi uwsgi-plugin-python3 wrk nginx-light
  python3-matplotlib valgrind strace
)

want=("${build_pkgs[@]}")
case "${1:-}" in
  --test) want+=("${test_pkgs[@]}") ;;
  --bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  "") ;;
  *) echo "usage: $0 [--test|--bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
