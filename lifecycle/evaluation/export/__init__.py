"""Eval tasks for other harnesses: lm-eval and promptfoo (`harness`), scored by a copy of
`standalone_metrics.py` that never imports lifecycle."""
