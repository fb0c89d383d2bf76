#!/usr/bin/env bash
# Builds tests/fuzz/request_parser_fuzz with clang (ASan+UBSan+libFuzzer) in a
# build dir of its own and fuzzes the request parser for a bounded time,
# seeded from tests/data/http/*/*.http. Exit 77 (ctest "skipped") when clang
# or libFuzzer is missing; non-zero when the build fails or the fuzzer finds
# a crash or a broken promise (the input is saved under BUILD/fuzz-artifacts/).
#
#   tests/fuzz/run_fuzz.sh [--build-dir DIR] [--seconds N] [--jobs N] [--fuzzer NAME] [-- libFuzzer args]
#
# --fuzzer ws_frame_fuzz fuzzes the WebSocket receive path instead, seeded
# from tests/data/websocket/*/*.bin (each behind an option byte: plain and
# with permessage-deflate); --fuzzer h2_connection_fuzz the HTTP/2
# connection, seeded from tests/data/http2/*.bin.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build="$src/build-fuzz"
seconds=20
jobs=2
fuzzer=request_parser_fuzz
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --fuzzer) fuzzer=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run_fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  echo "run_fuzz.sh: clang is not installed; skipping" >&2
  exit 77
fi
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  > "$probe_dir/probe.cpp"
if ! clang++ -fsanitize=fuzzer,address "$probe_dir/probe.cpp" -o "$probe_dir/probe" 2>/dev/null; then
  echo "run_fuzz.sh: clang cannot link libFuzzer (libclang-rt-14-dev missing?); skipping" >&2
  exit 77
fi

echo "run_fuzz.sh: configuring $build" >&2
if ! CC=clang CXX=clang++ cmake -S "$src" -B "$build" -DGF_FUZZ=ON -DGF_SANITIZE=ON \
     -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$probe_dir/configure.log" 2>&1; then
  cat "$probe_dir/configure.log" >&2
  echo "run_fuzz.sh: configuring the fuzz build failed" >&2
  exit 1
fi
cmake --build "$build" -j"$jobs" --target "$fuzzer"

seeds="$build/fuzz-seeds"
corpus="$build/fuzz-corpus"
artifacts="$build/fuzz-artifacts"
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$artifacts"
dict="$src/tests/fuzz/http.dict"
max_len=16384
if [[ $fuzzer == ws_frame_fuzz ]]; then
  dict="$src/tests/fuzz/ws.dict"
  max_len=131072
  for f in "$src"/tests/data/websocket/valid/*.bin "$src"/tests/data/websocket/invalid/*.bin; do
    n=$(basename "$f" .bin)
    { printf '\x00'; cat "$f"; } > "$seeds/$n.plain"
    { printf '\x02'; cat "$f"; } > "$seeds/$n.deflate"
  done
elif [[ $fuzzer == h2_connection_fuzz ]]; then
  dict="$src/tests/fuzz/h2.dict"
  max_len=65536
  cp "$src"/tests/data/http2/*.bin "$seeds"/
else
  cp "$src"/tests/data/http/valid/*.http "$src"/tests/data/http/invalid/*.http "$seeds"/
fi

echo "run_fuzz.sh: fuzzing for ${seconds}s" >&2
# libFuzzer's own exit code for a finding is 77, which ctest reads as
# "skipped": make every finding a failure.
"$build/bin/$fuzzer" -max_total_time="$seconds" -timeout=10 -max_len="$max_len" \
  -error_exitcode=1 -timeout_exitcode=1 \
  -dict="$dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
  "${extra[@]}" "$corpus" "$seeds"
