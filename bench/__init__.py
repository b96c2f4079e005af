"""Benchmarks (`make bench`): run on demand, print figures; never part of `make test`."""
