#!/usr/bin/env bash
# Checks every SIMD kernel level against scalar and a float64 reference (cpp/tests/kernel_check.cpp):
# natively for the x86 levels (scalar, AVX2, AVX-512 where the CPU has them), and for NEON by
# cross-compiling the kernels with aarch64-linux-gnu-g++ and running them under qemu-aarch64.
# Installs g++-aarch64-linux-gnu and qemu-user with apt when missing (CI runs as root); prints
# "skipped: ..." and exits 0 only when that toolchain cannot be had.
#   bash tests/neon_check.sh            # kernels only (about a minute on 2 cores)
#   bash tests/neon_check.sh --full     # also cross-compile the whole core for aarch64 with -Werror
set -euo pipefail
cd "$(dirname "$0")/.."

FULL=0
[[ "${1:-}" == "--full" ]] && FULL=1

CXXFLAGS=(-std=c++17 -O2 -Wall -Wextra -Wno-unused-parameter -Werror -Icpp/include)
COMMON=(cpp/src/simd/dispatch.cpp cpp/src/simd/family_dispatch.cpp cpp/src/simd/cpu_features.cpp cpp/src/simd/walk_prefetch.cpp
        cpp/src/simd/split_bf16_dispatch.cpp cpp/src/simd/kernels_scalar.cpp cpp/tests/kernel_check.cpp)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Compiles each "source|extra flags" pair to an object in parallel, then links them into $2.
build() {
  local cxx=$1 out=$2; shift 2
  local pids=() objs=() i=0
  for spec in "$@"; do
    local src=${spec%%|*} extra=${spec#*|} obj="$WORK/$(basename "$out").$i.o"
    [[ "$extra" == "$spec" ]] && extra=""
    # shellcheck disable=SC2086
    "$cxx" "${CXXFLAGS[@]}" $extra -c "$src" -o "$obj" & pids+=($!)
    objs+=("$obj"); i=$((i + 1))
  done
  for p in "${pids[@]}"; do wait "$p"; done
  "$cxx" "${objs[@]}" -static -o "$out" -lpthread
}

have_cross() { command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64 >/dev/null; }

install_cross() {
  have_cross && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then return 1; fi
  export DEBIAN_FRONTEND=noninteractive
  local pkgs=(g++-aarch64-linux-gnu qemu-user)
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${pkgs[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq -o DPkg::Lock::Timeout=300 >/dev/null 2>&1 &&
      apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${pkgs[@]}" >/dev/null 2>&1; } || return 1
  have_cross
}

status=0
if [[ $(uname -m) == x86_64 ]]; then
  echo "== native x86_64 levels"
  AVX2="-mavx2 -mfma -mf16c -mpopcnt"
  AVX512="-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512vpopcntdq $AVX2 -Wno-uninitialized"
  specs=()
  # The AVX512-BF16 kernels where this g++ takes the flag (CMakeLists.txt does the same).
  BF16_DEF="" BF16_SPEC=()
  if echo 'int main(){}' | g++ -mavx512bf16 -x c++ - -o /dev/null 2>/dev/null; then
    BF16_DEF="-DVIDX_AVX512BF16_KERNELS=1" BF16_SPEC=("cpp/src/simd/split_avx512bf16.cpp|$AVX512 -mavx512bf16")
  fi
  for src in "${COMMON[@]}"; do specs+=("$src|-DVIDX_X86_KERNELS=1 $BF16_DEF"); done
  build g++ "$WORK/kernel_check_x86" "${specs[@]}" \
    "cpp/src/simd/kernels_avx2.cpp|$AVX2" "cpp/src/simd/kernels_avx512.cpp|$AVX512" \
    "cpp/src/simd/lvq_distances_avx512.cpp|$AVX512 -ffp-contract=off" \
    "cpp/src/simd/lvq_distances_avx2.cpp|$AVX2 -ffp-contract=off" "${BF16_SPEC[@]}"
  "$WORK/kernel_check_x86" || status=1
fi

echo "== aarch64 NEON under qemu"
if ! install_cross; then
  echo "skipped: aarch64 cross toolchain (g++-aarch64-linux-gnu, qemu-user) not installable here"
  exit $status
fi
specs=()
for src in "${COMMON[@]}" cpp/src/simd/kernels_neon.cpp; do specs+=("$src|-DVIDX_NEON_KERNELS=1"); done
build aarch64-linux-gnu-g++ "$WORK/kernel_check_neon" "${specs[@]}"
out=$(qemu-aarch64 "$WORK/kernel_check_neon") || status=1
echo "$out"
# Run-time selection: NEON by default, scalar when VIDX_SIMD=scalar forces it.
[[ "$out" == *"active neon "* ]] || { echo "NEON not selected by default"; status=1; }
out=$(VIDX_SIMD=scalar qemu-aarch64 "$WORK/kernel_check_neon") || status=1
[[ "$out" == *"active scalar "* ]] || { echo "VIDX_SIMD=scalar did not force scalar"; status=1; }

if [[ $FULL -eq 1 ]]; then
  echo "== whole core cross-compiled for aarch64 (-Werror)"
  cmake -S . -B "$WORK/core-arm" -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
    -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ -DCMAKE_CXX_FLAGS=-Werror -DVIDX_CUDA=OFF \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$WORK/core-arm" -j"$(nproc)" >/dev/null && echo "core builds for aarch64" || status=1
fi
exit $status
