#!/usr/bin/env bash
# Where the CUDA path's time goes, beyond gpu_check.sh's one shape. For a GPU machine set up as
# gpu_check.sh says; run after it (it reuses its build unless the build folder is missing):
#
#     bash benchmarks/gpu_profile.sh
#
# 1. gpu_check.py on five more shapes (768 dims; k = 100; 10M rows; 100 and 1 queries a call), each
#    against PyTorch in the same process;
# 2. per-kernel device time of one 1M x 128 search (PyTorch's profiler records every kernel of
#    the process, vidx's too): how the time splits between the fused scan and the re-rank merge;
# 3. ncu's speed-of-light and occupancy sections for the first scan and merge launches
#    (--clock-control none), where ncu can read the counters.
#
# Results go to $OUT (default /tmp/vidx-gpu-profile): one JSON per shape, all measurement logs in
# one file, the kernel table and the ncu report.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/vidx-gpu-profile}
PY=${PYTHON:-python3}
PKG=/tmp/vidx-gpu-pkg
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
log() { echo "[gpu_profile $(date +%H:%M:%S)] $*"; }
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi

status=0

# ---- 1. shapes ------------------------------------------------------------------------------
first=1
for shape in "d768:--dim 768 --cpu-queries 200 --budget 80" "k100:--k 100 --cpu-queries 200 --budget 80" \
              "n10m:--n 10000000 --cpu-queries 100 --budget 80" "nq100:--nq 100 --runs 20 --cpu-queries 100 --budget 90" \
              "nq1:--nq 1 --runs 50 --cpu-queries 1 --budget 90"; do
  name=${shape%%:*}
  args=${shape#*:}
  skip_build=1
  if [ "$first" = 1 ] && [ ! -d "$PKG/vidx" ]; then skip_build=0; fi
  first=0
  log "shape $name ($args)"
  OUT=/tmp/gp_$name SKIP_TESTS=1 SKIP_BUILD=$skip_build CHECK_ARGS="$args" bash "$ROOT/benchmarks/gpu_check.sh" \
    > /tmp/gp_$name.log 2>&1 || { status=1; log "shape $name failed"; }
  grep -E "^\||vs the faster|vs CPU flat|^Exact" /tmp/gp_$name.log
  cp /tmp/gp_$name/gpu_check.json "$OUT/$name.json" 2>/dev/null
  cat /tmp/gp_$name.log >> "$OUT/measure_all.log"
done
export PYTHONPATH="$PKG${PYTHONPATH:+:$PYTHONPATH}"

# ---- 2. per-kernel time ---------------------------------------------------------------------
log "per-kernel device time (PyTorch profiler)"
timeout 90 $PY - <<'PYEOF' 2>&1 | tee "$OUT/kernels.txt" || status=1
import numpy as np, torch, vidx
from torch.profiler import profile, ProfilerActivity
rng = np.random.default_rng(0)
X = rng.standard_normal((1_000_000, 128), dtype=np.float32)
Q = rng.standard_normal((10_000, 128), dtype=np.float32)
for label, opts in (("float32 (3xTF32)", {}), ("float32 fast (1xTF32)", {"exact": False}), ("f16", {"quant": "f16"})):
    idx = vidx.Index(128, "l2", kind="flat", device="cuda", **opts)
    idx.add(X)
    idx.search(Q, 10)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        idx.search(Q, 10)
        torch.cuda.synchronize()
    rows = {}
    for e in prof.events():
        if not str(e.device_type).endswith("CUDA"):
            continue
        r = rows.setdefault(e.name[:70], [0, 0.0])
        r[0] += 1
        r[1] += e.time_range.elapsed_us()
    total = sum(v[1] for v in rows.values())
    print(f"\n{label}: 10,000 queries x 1M x 128, k=10; device time {total / 1e3:.1f} ms in {sum(v[0] for v in rows.values())} launches/copies")
    for name, (count, us) in sorted(rows.items(), key=lambda kv: -kv[1][1]):
        print(f"  {us / 1e3:8.2f} ms {100 * us / max(total, 1e-9):5.1f}%  x{count:<4} {name}")
    del idx
PYEOF

# ---- 3. ncu ---------------------------------------------------------------------------------
if command -v ncu >/dev/null; then
  log "ncu: speed of light and occupancy of the first scan and merge launches"
  cat > /tmp/gp_ncu.py <<'PYEOF'
import numpy as np, vidx
rng = np.random.default_rng(0)
X = rng.standard_normal((1_000_000, 128), dtype=np.float32)
Q = rng.standard_normal((2048, 128), dtype=np.float32)
idx = vidx.Index(128, "l2", kind="flat", device="cuda")
idx.add(X)
idx.search(Q, 10)
PYEOF
  timeout 100 ncu --clock-control none --section SpeedOfLight --section Occupancy --section LaunchStats \
      -k regex:"scan_kernel|merge_kernel" --launch-count 2 $PY /tmp/gp_ncu.py > "$OUT/ncu.txt" 2>&1 \
    || { status=1; log "ncu failed (exit $?)"; }
  grep -E "scan_kernel|merge_kernel|Duration|Throughput|Achieved Occupancy|Registers Per|Shared Memory Config|Theoretical Occ|Block Limit" "$OUT/ncu.txt" | head -60
else
  log "no ncu on this machine"
fi
log "done (exit $status); results in $OUT"
exit $status
