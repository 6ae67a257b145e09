"""Benchmarks over curve sets with known truth (numpy + stdlib only)."""
