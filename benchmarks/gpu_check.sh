#!/usr/bin/env bash
# GPU check of vidx's CUDA path (issue 5), for a machine with an NVIDIA GPU and no internet
# (nvcc, CMake, ninja, and a python3 with numpy, pybind11, pytest and PyTorch installed; the
# device machines of this workplace have all of them). From the repository root:
#
#     bash benchmarks/gpu_check.sh
#
# 1. builds vidx with CUDA (cmake, VIDX_CUDA=ON, this card's architecture only) into
#    /tmp/vidx-gpu-build and assembles an importable package in /tmp/vidx-gpu-pkg;
# 2. runs tests/test_cuda.py and tests/test_kmeans.py there;
# 3. measures exact top-10 of 10,000 queries against 1M x 128 float32 vectors, vidx next to
#    PyTorch, checked against the CPU flat index (benchmarks/gpu_check.py, 5-minute budget).
#
# Logs and gpu_check.json go to $OUT (default /tmp/vidx-gpu-check). Environment knobs:
# PYTHON (python3), VIDX_CUDA_ARCHITECTURES (default: the card's), SKIP_TESTS=1, SKIP_BUILD=1,
# CHECK_ARGS (extra arguments of gpu_check.py, e.g. "--n 200000").
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/vidx-gpu-check}
PY=${PYTHON:-python3}
BUILD=/tmp/vidx-gpu-build
PKG=/tmp/vidx-gpu-pkg
mkdir -p "$OUT"
log() { echo "[gpu_check $(date +%H:%M:%S)] $*"; }
status=0

if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version,clocks.max.sm --format=csv \
  || { echo "gpu_check: nvidia-smi failed: no NVIDIA GPU here"; exit 2; }
CC=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
ARCH=${VIDX_CUDA_ARCHITECTURES:-$CC}
log "python: $($PY -c 'import sys; print(sys.executable, sys.version.split()[0])'); nvcc: $(nvcc --version | tail -2 | head -1)"

# ---- 1. build -------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building with CUDA for sm_$ARCH (log: $OUT/build.log)"
  t0=$SECONDS
  GEN=()
  command -v ninja >/dev/null && GEN=(-G Ninja)
  rm -rf "$BUILD"
  if ! { cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DVIDX_BUILD_PYTHON=ON \
           -DVIDX_CUDA=ON -DVIDX_CUDA_ARCHITECTURES="$ARCH" \
           -DPython_EXECUTABLE="$(command -v "$PY")" -Dpybind11_DIR="$($PY -m pybind11 --cmakedir)" \
         && cmake --build "$BUILD" -j"$(nproc)"; } > "$OUT/build.log" 2>&1; then
    tail -60 "$OUT/build.log"
    log "BUILD FAILED"
    exit 3
  fi
  grep -iE "warning|spill" "$OUT/build.log" | grep -v "CMP0" | head -20
  log "built in $((SECONDS - t0)) s"
  rm -rf "$PKG"
  mkdir -p "$PKG"
  cp -r "$ROOT/python/vidx" "$PKG/"
  rm -f "$PKG"/vidx/_core*.so
  cp "$BUILD"/_core*.so "$PKG/vidx/"
fi
export PYTHONPATH="$PKG${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
$PY -c "import vidx, vidx.gpu as g; print('vidx from', vidx.__file__); print('cuda_status:', g.cuda_status())" \
  || { log "IMPORT FAILED"; exit 4; }

# ---- 2. tests ---------------------------------------------------------------------------------
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  log "GPU tests (log: $OUT/tests.log)"
  t0=$SECONDS
  (cd "$ROOT" && timeout 150 $PY -m pytest -q -p no:cacheprovider -rs --durations=8 \
      tests/test_cuda.py tests/test_kmeans.py) 2>&1 | tee "$OUT/tests.log"
  rc=${PIPESTATUS[0]}
  log "tests: exit $rc in $((SECONDS - t0)) s"
  if [ "$rc" != 0 ]; then
    status=5
    # Localise a device-side fault: a small search and k-means under compute-sanitizer, each
    # kernel synchronised (VIDX_CUDA_DEBUG=1) so that errors name the kernel.
    if command -v compute-sanitizer >/dev/null; then
      log "tests failed: compute-sanitizer memcheck on a small run (log: $OUT/sanitizer.log)"
      VIDX_CUDA_DEBUG=1 timeout 60 compute-sanitizer --tool memcheck --print-limit 20 $PY - > "$OUT/sanitizer.log" 2>&1 <<'PYEOF'
import numpy as np, vidx, vidx.gpu as g
rng = np.random.default_rng(0)
x = rng.standard_normal((3000, 40)).astype(np.float32); q = rng.standard_normal((300, 40)).astype(np.float32)
for quant in ("none", "f16"):
    for opts in ({}, {"chunk_rows": 1000, "max_device_rows": 1500}):
        idx = vidx.Index(40, "l2", kind="flat", device="cuda", quant=quant, **opts); idx.add(x)
        D, I = idx.search(q, 10)
        d = ((q[:, None, :].astype(np.float64) - x[None]) ** 2).sum(-1)
        print(quant, opts, "top-1 agreement with numpy:", float((I[:, 0] == d.argmin(1)).mean()))
r = vidx.kmeans(x, 16, device="cuda"); print("kmeans inertia", r.inertia)
PYEOF
      tail -40 "$OUT/sanitizer.log"
    fi
  fi
fi

# ---- 3. measurement ---------------------------------------------------------------------------
log "measurement (budget 250 s; log: $OUT/measure.log)"
timeout 260 $PY "$ROOT/benchmarks/gpu_check.py" --budget 250 --out "$OUT" ${CHECK_ARGS:-} 2>&1 | tee "$OUT/measure.log"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || status=6
log "done (exit $status); results in $OUT"
exit $status
