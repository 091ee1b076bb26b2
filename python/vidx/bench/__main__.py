"""``python -m vidx.bench``: the benchmark command line."""
from .cli import main

raise SystemExit(main())
