"""Fieldloop's benchmarks: `make bench` runs them all, each figure beside its baseline."""
