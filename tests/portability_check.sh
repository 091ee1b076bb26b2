#!/usr/bin/env bash
# Portability check for the platform layers (files: cpp/src/io, cpp/include/vidx/io; memory:
# cpp/src/common/aligned_buffer.cpp, which maps large buffers on Linux only): compiles them
#   1. with clang and -Werror (the POSIX branch as macOS/BSD compilers see it, plus -Wall -Wextra
#      -Wpedantic), and
#   2. for Windows with MinGW-w64 (x86_64-w64-mingw32-g++, -Werror), which compiles the _WIN32
#      branch against the real Windows headers.
# Installs the compilers with apt-get when missing and possible; skips a step with a message
# when a compiler cannot be had. Exit status is non-zero only when a compile fails.
set -uo pipefail
cd "$(dirname "$0")/.."

IO_SOURCES=(cpp/src/io/platform_posix.cpp cpp/src/io/platform_windows.cpp cpp/src/io/positional_io.cpp cpp/src/io/atomic_file.cpp
            cpp/src/io/index_file.cpp cpp/src/io/byte_stream.cpp cpp/src/io/crc32c.cpp cpp/src/io/posting_store.cpp
            cpp/src/common/aligned_buffer.cpp)
FLAGS=(-std=c++17 -Wall -Wextra -Wpedantic -Werror -Icpp/include -c -o /dev/null)

have() { command -v "$1" >/dev/null 2>&1; }
try_install() {  # apt package names; best effort
  if have apt-get && [ "$(id -u)" = 0 ]; then
    apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 || \
      { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; }
  fi
}

status=0
compile_all() {  # compiler, extra flags...
  local cxx=$1; shift
  for f in "${IO_SOURCES[@]}"; do
    if ! "$cxx" "${FLAGS[@]}" "$@" "$f"; then echo "FAIL: $cxx $* $f"; status=1; fi
  done
}

have clang++ || try_install clang
if have clang++; then
  echo "clang++ -Werror: $(clang++ --version | head -1)"
  compile_all clang++
else
  echo "SKIP: clang++ not available and could not be installed"
fi

# Every public header compiles on its own, warning-free, for projects that add vidx with
# add_subdirectory and build with -Wall -Wextra -Werror (the installed package's headers are
# system headers to its users, which hides warnings; a source tree's are not).
header_compiler=$(have clang++ && echo clang++ || echo g++)
for h in $(cd cpp/include && find vidx -name '*.hpp' ! -path 'vidx/cuda/*' | sort); do
  if ! echo "#include \"$h\"" | "$header_compiler" -std=c++17 -Wall -Wextra -Wpedantic -Werror -Icpp/include \
        -fsyntax-only -x c++ -; then
    echo "FAIL: $header_compiler: $h alone"; status=1
  fi
done
echo "public headers alone, $header_compiler -Werror: checked"

MINGW=x86_64-w64-mingw32-g++
have $MINGW || try_install g++-mingw-w64-x86-64
if have $MINGW; then
  echo "$MINGW -Werror (Windows branch): $($MINGW --version | head -1)"
  compile_all $MINGW -D_WIN32_WINNT=0x0601
  # Link the layer into a small program too, so a missing Win32 symbol is caught.
  tmp=$(mktemp -d)
  cat > "$tmp/main.cpp" <<'CPP'
#include "vidx/common/aligned_buffer.hpp"
#include "vidx/io/atomic_file.hpp"
#include "vidx/io/crc32c.hpp"
#include "vidx/io/posting_store.hpp"
int main() {
  vidx::io::AtomicFile f("probe.bin");
  f.write_at(0, "x", 1);
  f.commit();
  vidx::io::PostingWriter w("probe.postings", vidx::io::plan_postings({1}, 16, 0));
  w.commit(vidx::io::PostingHeader{});
  if (vidx::io::crc32c("123456789", 9) != 0xE3069283u) return 1;
  vidx::AlignedBuffer grown(8 << 20);  // the heap branch of a large buffer
  grown.data()[0] = 1;
  grown.reallocate(16 << 20);
  if (grown.data()[0] != 1 || grown.data()[(16 << 20) - 1] != 0) return 1;
  return vidx::io::process_may_be_alive(vidx::io::current_process_id()) ? 0 : 1;
}
CPP
  if ! $MINGW -std=c++17 -Werror -Icpp/include -static -o "$tmp/probe.exe" "$tmp/main.cpp" \
        cpp/src/io/platform_windows.cpp cpp/src/io/positional_io.cpp cpp/src/io/atomic_file.cpp \
        cpp/src/io/crc32c.cpp cpp/src/io/byte_stream.cpp cpp/src/io/posting_store.cpp cpp/src/common/aligned_buffer.cpp; then
    echo "FAIL: linking the Windows io layer"; status=1
  fi
  rm -rf "$tmp"
else
  echo "SKIP: $MINGW not available and could not be installed"
fi

[ $status = 0 ] && echo "portability check: OK"
exit $status
