"""Evaluation, top-down: `runner` (eval run: generate or take predictions, score, record) over the
eval set (`evalset`, `predictions`), `compare` and `sweep` over runs, `roles` (what a run is evidence
of), `eval_yaml` (configs/eval.yaml derived and written); `metrics/` (what each metric is and computes),
`statistics/` (intervals, paired tests, verdicts, targets), `reports/` (documents, plots, tables) and
`export/` (tasks for lm-eval and promptfoo)."""
