"""Ratio benchmarks: each module measures an engine against a baseline in the same run."""
