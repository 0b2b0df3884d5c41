"""The run store: one append-only folder per run, the evidence everything else reads."""

from lifecycle.runs.store import Run, RunStore, file_sha256, library_versions

__all__ = ["Run", "RunStore", "file_sha256", "library_versions"]
