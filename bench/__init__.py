"""Benchmark of the load path: `python bench/run.py --help`."""
