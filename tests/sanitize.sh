#!/usr/bin/env bash
# Sanitizer runs (issue 13). Separate build folders; nothing here touches build/dev or the
# _core module in python/vidx.
#   1. ASan + UBSan build of the core and the Python module; the Python tests run under it
#      (LD_PRELOAD of libasan, since python itself is not instrumented).
#   2. ThreadSanitizer build of cpp/tests/stress_concurrent.cpp (concurrent search/add/save) and
#      cpp/tests/living_protocol.cpp (the concurrent write protocol: add/remove/upsert/compact).
# Usage: bash tests/sanitize.sh [pytest args...]     (default: the fast robustness subset)
# Environment: JOBS (default 2), STRESS_SECONDS (default 10), SKIP_ASAN=1, SKIP_TSAN=1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-2}
STRESS_SECONDS=${STRESS_SECONDS:-10}
PYBIND11_DIR=$(python3 -c "import pybind11; print(pybind11.get_cmake_dir())")
SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
# Fail on the first report; Python's own allocations are not ours to judge (no leak check).
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

if [ $# -eq 0 ]; then
  # -s: a sanitizer report goes to stderr and ends the process; pytest's capture would swallow it.
  set -- tests/test_hardening.py tests/test_bad_input.py tests/test_files.py tests/test_hnsw.py \
         tests/test_properties.py tests/test_lvq.py tests/test_corruption.py tests/test_binary.py \
         tests/test_spann.py -x -q -s
fi

seconds() { date +%s; }

if [ "${SKIP_ASAN:-0}" != 1 ]; then
  t0=$(seconds)
  cmake -S "$ROOT" -B "$ROOT/build/asan" -DVIDX_BUILD_PYTHON=ON -DVIDX_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS="$SAN_FLAGS" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
        -Dpybind11_DIR="$PYBIND11_DIR" > /dev/null
  cmake --build "$ROOT/build/asan" -j "$JOBS" --target _core > /dev/null
  t1=$(seconds)
  # A private copy of the package beside the instrumented module.
  PKG="$ROOT/build/asan/pkg"
  rm -rf "$PKG" && mkdir -p "$PKG" && cp -r "$ROOT/python/vidx" "$PKG/vidx"
  rm -f "$PKG"/vidx/_core*.so && cp "$ROOT"/build/asan/_core*.so "$PKG/vidx/"
  LIBASAN=$(${CXX:-g++} -print-file-name=libasan.so)
  LIBUBSAN=$(${CXX:-g++} -print-file-name=libubsan.so)
  (cd "$ROOT" && LD_PRELOAD="$LIBASAN $LIBUBSAN" PYTHONPATH="$PKG" python3 -m pytest -p no:cacheprovider "$@")
  t2=$(seconds)
  echo "sanitize: ASan+UBSan build $((t1 - t0)) s, tests $((t2 - t1)) s"
fi

if [ "${SKIP_TSAN:-0}" != 1 ]; then
  t0=$(seconds)
  TSAN="$ROOT/build/tsan"
  mkdir -p "$TSAN"
  cmake -S "$ROOT" -B "$TSAN" -DVIDX_BUILD_PYTHON=OFF -DVIDX_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" > /dev/null
  cmake --build "$TSAN" -j "$JOBS" --target vidx_core > /dev/null
  ${CXX:-g++} -std=c++17 -O1 -g -fsanitize=thread -I"$ROOT/cpp/include" "$ROOT/cpp/tests/stress_concurrent.cpp" \
      "$TSAN/libvidx_core.a" -lpthread -o "$TSAN/stress_concurrent"
  t1=$(seconds)
  ${CXX:-g++} -std=c++17 -O1 -g -fsanitize=thread -I"$ROOT/cpp/include" "$ROOT/cpp/tests/living_protocol.cpp" \
      "$TSAN/libvidx_core.a" -lpthread -o "$TSAN/living_protocol"
  "$TSAN/stress_concurrent" "$STRESS_SECONDS" "$TSAN"
  "$TSAN/living_protocol" "$STRESS_SECONDS"
  t2=$(seconds)
  echo "sanitize: TSan build $((t1 - t0)) s, stress $((t2 - t1)) s"
fi
echo "sanitize: ok"
