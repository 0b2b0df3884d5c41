"""The run store: one append-only folder per run, the evidence everything else reads."""

from lifecycle.runs.store import Run, RunStore, library_versions

__all__ = ["Run", "RunStore", "library_versions"]
