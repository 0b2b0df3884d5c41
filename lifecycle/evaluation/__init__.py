"""Offline metrics, model-agnostic scoring, statistics, eval runs, comparisons and reports."""
