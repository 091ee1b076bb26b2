#!/usr/bin/env bash
# A rebuild (process A, sleeping in its write phase) and a rebuild of the same saved index from
# another PID namespace (process B, `unshare --pid`): B's clean-up used to take A's temporaries
# for a dead process's and delete them, failing A at its rename. Usage: PKG=<package copy> bash run_ns.sh
cd "$(dirname "$0")"
rm -rf d && mkdir d
(PYTHONPATH=$PKG python3 slow_w.py "$PWD/d" 2>&1 | grep -v "%" &)
for i in $(seq 1 100); do [ -e d/READY ] && break; sleep 0.2; done
PYTHONPATH=$PKG unshare --pid --fork --mount-proc python3 rebuilder_b.py "$PWD/d" 2>&1 | grep -v "%"
sleep 8
ls d
