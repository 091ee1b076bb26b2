import sys, time; sys.path.insert(0, sys.argv[1]); import vidx
ts = []
for _ in range(15):
    t = time.perf_counter(); i = vidx.load(sys.argv[2]); ts.append(time.perf_counter() - t); del i
ts.sort(); print(sys.argv[1], "median load ms", round(ts[7] * 1000, 1))
