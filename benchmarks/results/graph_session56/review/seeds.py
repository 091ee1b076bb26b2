"""small_adds.py configurations over seeds 0-4. seeds.py 'quant metric M size kind' ..."""
import os, sys, runpy
cfgs = [a.split() for a in sys.argv[1:]]
for c in cfgs:
    for seed in range(5):
        sys.argv = ["small_adds.py"] + c + [str(seed)]
        runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "small_adds.py"), run_name="__main__")
