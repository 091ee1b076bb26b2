"""Wall time of vidx.load and vidx.from_bytes (file in the page cache), the starting package against the
final one in alternating processes: python3 load_time.py BEFORE_PKG AFTER_PKG PATH [ROUNDS]."""
import statistics, subprocess, sys
before, after, path = sys.argv[1:4]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
code = ("import sys, time; sys.path.insert(0, sys.argv[1]); import vidx; data = open(sys.argv[2], 'rb').read(); "
        "t = time.perf_counter(); vidx.load(sys.argv[2]); a = time.perf_counter() - t; "
        "t = time.perf_counter(); vidx.from_bytes(data); print(a, time.perf_counter() - t)")
times = {before: [], after: []}
for _ in range(rounds):
    for pkg in (before, after):
        out = subprocess.run([sys.executable, "-c", code, pkg, path], capture_output=True, text=True, check=True)
        times[pkg].append(tuple(float(v) for v in out.stdout.split()))
for name, pkg in (("before", before), ("after", after)):
    print(f"{name}: load median {statistics.median(t[0] for t in times[pkg]) * 1000:.1f} ms, "
          f"from_bytes median {statistics.median(t[1] for t in times[pkg]) * 1000:.1f} ms ({rounds} rounds)")
