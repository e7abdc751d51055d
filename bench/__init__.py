"""Benchmarks run against the shared data in /work/shared (never copied into the project)."""
