"""Load benchmarks: the real service against a minimal reference ceiling (see bench/README.md)."""
