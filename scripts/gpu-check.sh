#!/usr/bin/env bash
# The GPU check (issue 17): the backend suite with CUDA against the cpu, then the kernels and the prover
# on CUDA, on a machine with an NVIDIA GPU and no network or Rust toolchain.
#
#   scripts/gpu-check.sh build [BUNDLE]     on a development machine: build the release `zkdl` binary
#                                           and the backend suite's test binaries, stripped, into BUNDLE
#                                           (default target/gpu-check; tens of MiB)
#   scripts/gpu-check.sh run OUT [BUNDLE]   on the GPU machine: run them, writing logs, JSON and a
#                                           summary table into OUT; well inside 10 minutes on an H200
#
# The GPU machine needs the NVIDIA driver and NVRTC 13.0 (the CUDA toolkit's /usr/local/cuda/lib64, or
# the lib folder of `pip install nvidia-cuda-nvrtc==13.0.88`), nothing else.
set -uo pipefail

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

root="$(cd "$(dirname "$0")/.." && pwd)"

build() {
  local bundle="${1:-$root/target/gpu-check}"
  set -e
  mkdir -p "$bundle"
  cd "$root"
  cargo build --release --locked --bin zkdl
  strip -g target/release/zkdl -o "$bundle/zkdl"
  # The test binaries' paths, from cargo's own report of what it built.
  cargo test --release --locked -p zkdl-runtime --test backends --test nvrtc --no-run --message-format=json \
    | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["target"]["name"], m["executable"])
' | while read -r name path; do strip -g "$path" -o "$bundle/$name"; done
  cp "$0" "$bundle/gpu-check.sh"
  git -C "$root" rev-parse HEAD > "$bundle/commit" 2>/dev/null || true
  ls -la "$bundle"
}

run() {
  local out="$1" bundle="${2:-$root/target/gpu-check}"
  mkdir -p "$out"
  # Absolute paths: the steps run inside OUT.
  out="$(cd "$out" && pwd)"
  bundle="$(cd "$bundle" 2>/dev/null && pwd || echo "$bundle")"
  for f in zkdl backends nvrtc; do
    [ -x "$bundle/$f" ] || { echo "missing $bundle/$f: run \`scripts/gpu-check.sh build\` first" >&2; exit 2; }
  done
  for lib in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -d "$lib" ] && export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
  # After the toolkit's: NVRTC and cuBLAS from pip wheels (nvidia-cuda-nvrtc, nvidia-cublas), where
  # the machine's python3 has them (site-packages/nvidia/cu13/lib for CUDA 13).
  if command -v python3 > /dev/null; then
    for site in $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2> /dev/null); do
      for lib in "$site"/nvidia/*/lib; do
        [ -d "$lib" ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$lib"
      done
    done
  fi
  local summary="$out/summary.txt"
  : > "$summary"
  step() {
    # step NAME TIMEOUT COMMAND…: runs it, logs to OUT/NAME.log, records the status and time.
    local name="$1" limit="$2"
    shift 2
    local started=$SECONDS
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
    local rc=$?
    printf '%-28s rc %-3s %5ss\n' "$name" "$rc" "$((SECONDS - started))" | tee -a "$summary"
    return $rc
  }
  {
    echo "commit $(cat "$bundle/commit" 2>/dev/null || echo unknown)"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || true
    nproc
    echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  } | tee "$out/machine.txt"
  cd "$out"
  # 1. The backend suite: every kernel and whole proofs on CUDA against the cpu; CUDA must be there.
  ZKDL_REQUIRE_CUDA=1 ZKDL_REQUIRE_NVRTC=1 step suite 180 "$bundle/backends" --test-threads 1 --nocapture
  ZKDL_REQUIRE_NVRTC=1 step nvrtc 60 "$bundle/nvrtc" --nocapture
  # 2. Each kernel family against the cpu, 2^22 and 2^24 entries.
  step kernels-22 120 "$bundle/zkdl" bench --backend cuda --kernels 22 --json "$out/kernels-22.json"
  step kernels-24 120 "$bundle/zkdl" bench --backend cuda --kernels 24 --kernel-runs 2 --json "$out/kernels-24.json"
  # 3. The prover on CUDA: digits T = 16, paper T = 1, 4, 16 (zero-knowledge, as `zkdl prove` makes).
  step bench-digits 60 "$bundle/zkdl" bench --backend cuda --runs digits:16 --modes zk --no-floor --quiet \
    --json "$out/bench-digits.json"
  step bench-paper 300 "$bundle/zkdl" bench --backend cuda --runs paper:1,4,16 --init he --modes zk --no-floor \
    --quiet --json "$out/bench-paper.json"
  for f in kernels-22 kernels-24 bench-digits bench-paper; do
    echo "== $f" >> "$summary"
    grep -v '^backend:' "$out/$f.log" >> "$summary" || true
  done
  cat "$summary"
}

case "${1:-}" in
  build) shift; build "$@" ;;
  run) [ $# -ge 2 ] || usage; shift; run "$@" ;;
  *) usage ;;
esac
