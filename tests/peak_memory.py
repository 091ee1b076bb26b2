"""Peak resident memory of one call: a probe script runs in a fresh process, resets its peak just before
the call (Linux: /proc/self/clear_refs) and prints what it measured as JSON."""
import json
import os
import subprocess
import sys

import pytest

# Marks for tests that measure peaks: they read /proc/self, and a sanitizer's allocator (which keeps freed
# memory aside and pads every block) would measure itself, not the library.
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")
unsanitized = pytest.mark.skipif("asan" in os.environ.get("LD_PRELOAD", ""), reason="peak memory under a sanitizer")


def run_probe(probe, *args):
    """The JSON the probe script prints, run as `python -c probe args...` with this process's imports."""
    try:
        open("/proc/self/clear_refs", "w").write("5")
    except OSError:
        pytest.skip("cannot reset the peak resident memory here")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", probe, *map(str, args)], capture_output=True, text=True, env=env,
                         timeout=300, check=True)
    return json.loads(out.stdout)
