"""Benchmarks with their targets (issue 8): ``make bench`` or ``python -m bench [name ...]``."""
