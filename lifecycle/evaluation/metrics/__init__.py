"""What a metric is and how it is computed: the registry (names, directions, aggregation), one
scorer per metric family (`scorers`, `grounding`, `rouge_fast`), the project's own metrics
(`custom`), and the `evaluate.Metric` modules (`modules/`) over the same scorers."""
