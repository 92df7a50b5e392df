"""Tools run from `scripts/` that are no part of the deployed program: the benchmark under mocks."""
