"""vidx.bench: recall-vs-QPS benchmarks of vidx against other HNSW libraries, the ann-benchmarks way.

Run ``python -m vidx.bench --help`` (or ``vidx-bench``). Modules, one job each:
``peers`` wraps each library behind one adapter interface, ``runner`` builds and sweeps,
``recall`` scores results against exact ground truth, ``report`` prints tables, writes JSON and plots,
``cli`` parses flags and picks the dataset.
"""
