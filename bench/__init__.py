"""Benchmarks: `make bench` runs every ``bench/*_bench.py`` module's ``run()``.

Machines here are noisy, so every figure is reported beside, and as a ratio
to, a baseline measured in the same run (see :mod:`bench.baseline`).
"""
