"""MLflow: the Trainer's report_to from configs/finetune.yaml, and `lifecycle runs export --to mlflow`
into a local file store, read back with the mlflow client."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

mlflow = pytest.importorskip("mlflow")


def _client(uri):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _write_finetune(root, **training):
    config = {"method": "lora", "training": {"max_steps": 3, "batch_size": 2, "save_steps": 3, "logging_steps": 1,
                                             **training},
              "data": {"train": "data/sample.jsonl"}}  # the test project's one data file
    (root / "configs" / "finetune.yaml").write_text("# Used by: lifecycle finetune\n" + yaml.safe_dump(config))


def test_report_to_reaches_the_trainer_arguments(tmp_path):
    from transformers.integrations import MLflowCallback
    from transformers.integrations.integration_utils import get_reporting_integration_callbacks

    from lifecycle.config.finetune import FinetuneConfig
    from lifecycle.finetune.training import training_arguments

    for value, expected in (("mlflow", ["mlflow"]), (["mlflow", "tensorboard"], ["mlflow", "tensorboard"]),
                            ("none", [])):
        ft = FinetuneConfig.model_validate({"method": "lora", "training": {"report_to": value}})
        args = training_arguments(SimpleNamespace(ft=ft, out_dir=tmp_path), "no", False, True)
        assert args.report_to == expected
    args = training_arguments(SimpleNamespace(ft=FinetuneConfig.model_validate({"training": {"report_to": "mlflow"}}),
                                              out_dir=tmp_path), "no", False, True)
    assert get_reporting_integration_callbacks(args.report_to) == [MLflowCallback]


def test_report_to_rejects_an_unknown_tracker(make_project, cli):
    root = make_project()
    _write_finetune(root, report_to="mlfow")
    code, _, err = cli("validate", "-p", root)
    assert code != 0 and "report_to" in err


def test_export_logs_params_metrics_with_ci_steps_and_reports_then_skips_duplicates(make_project, add_eval_run,
                                                                                   cli, tmp_path):
    from lifecycle.finetune.runs import write_training_log
    from lifecycle.runs.store import RunStore

    root = make_project()
    eval_run = add_eval_run(root, value=0.41, ci=(0.35, 0.47))
    (eval_run.path / "report.md").write_text("# report\n")
    ft = RunStore(root / "runs").create("finetune", config={"training": {"max_steps": 3, "learning_rate": 0.001}},
                                        model={"id": "tiny"}, seed=7)
    # The Trainer's log_history layout (lifecycle/finetune/runs.py writes it as training_log.json).
    history = [{"loss": 2.5, "learning_rate": 0.001, "epoch": 0.3, "step": 1},
               {"loss": 2.1, "learning_rate": 0.0007, "epoch": 0.6, "step": 2},
               {"loss": 1.9, "learning_rate": 0.0003, "epoch": 1.0, "step": 3},
               {"train_runtime": 1.2, "train_loss": 2.17, "epoch": 1.0, "step": 3}]
    write_training_log(ft, history)
    ft.finish()

    store = (tmp_path / "store").as_uri()
    code, out, err = cli("runs", "export", "--to", "mlflow", "--tracking-uri", store, "--experiment", "demo",
                         "-p", root)
    assert code == 0, out + err
    assert "2 exported, 0 skipped" in out
    client = _client(store)
    exp = client.get_experiment_by_name("demo")
    runs = {r.data.tags["lifecycle.run_id"]: r for r in client.search_runs([exp.experiment_id])}
    assert set(runs) == {ft.id, eval_run.id}

    ev = runs[eval_run.id]
    assert ev.data.metrics["rougeL"] == pytest.approx(0.41)
    assert ev.data.metrics["rougeL.ci_low"] == pytest.approx(0.35)
    assert ev.data.metrics["rougeL.ci_high"] == pytest.approx(0.47)
    assert ev.data.metrics["rougeL.n"] == 8
    assert ev.data.params["kind"] == "eval" and ev.data.params["config.shots"] == "0"
    assert ev.info.status == "FINISHED" and ev.data.tags["lifecycle.kind"] == "eval"
    assert {a.path for a in client.list_artifacts(ev.info.run_id, "lifecycle")} >= {
        "lifecycle/run.yaml", "lifecycle/metrics.json", "lifecycle/report.md"}

    f = runs[ft.id]
    assert f.data.params["config.training.max_steps"] == "3" and f.data.params["seed"] == "7"
    assert f.data.params["model.id"] == "tiny"
    steps = sorted((m.step, m.value) for m in client.get_metric_history(f.info.run_id, "train.loss"))
    assert steps == [(1, 2.5), (2, 2.1), (3, 1.9)]
    assert len(client.get_metric_history(f.info.run_id, "train.learning_rate")) == 3
    assert "lifecycle/training_log.json" in {a.path for a in client.list_artifacts(f.info.run_id, "lifecycle")}

    code, out, _ = cli("runs", "export", "--to", "mlflow", "--tracking-uri", store, "--experiment", "demo",
                       "-p", root)
    assert code == 0 and "0 exported, 2 skipped" in out
    assert len(client.search_runs([exp.experiment_id])) == 2
    assert cli("runs", "export", "--to", "wandb", "-p", root)[0] != 0


@pytest.mark.slow
def test_a_real_finetune_reports_its_loss_to_mlflow_live(make_project, tiny_t5, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    live = (tmp_path / "live-store").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", live)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "live")
    root = make_project(model=tiny_t5, adaptation="peft")
    _write_finetune(root, report_to="mlflow")
    code, out, err = cli("finetune", "--no-eval", "-p", root)
    assert code == 0, out + err
    client = _client(live)
    [trained] = client.search_runs([client.get_experiment_by_name("live").experiment_id])
    assert "loss" in trained.data.metrics and trained.info.status == "FINISHED"
