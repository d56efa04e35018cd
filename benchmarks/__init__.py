"""Benchmarks and quality evaluations (run as scripts: python -m benchmarks.<name>)."""
