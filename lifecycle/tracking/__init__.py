"""Experiment trackers. The run folder stays the record; `lifecycle runs export --to mlflow` copies
finished run folders into an MLflow tracking store (mlflow_export.py), and the Trainer's own
`report_to` (configs/finetune.yaml training.report_to) streams fine-tuning to a tracker live."""
