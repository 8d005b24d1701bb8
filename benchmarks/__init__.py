"""Benchmarks of evaltool against same-run baselines (`make bench`; see RESULTS.md)."""
