"""`lifecycle new` from the command line: defaults, every flag, answers files, next steps."""

from __future__ import annotations

from pathlib import Path

from lifecycle.config.model import ModelConfig
from lifecycle.config.yaml_io import load_config
from lifecycle.manifest import Manifest


def manifest(root: Path) -> Manifest:
    return load_config(root / "lifecycle.yaml", Manifest)


def test_no_input_defaults_and_next_steps(new, tmp_path):
    code, out, err = new("demo", "--no-input", "--task", "summarization", cwd=tmp_path)
    assert code == 0, err
    m = manifest(tmp_path / "demo")
    assert m.project.name == "demo" and m.project.package == "demo"
    assert m.scope.success.metric == "rougeL" and m.scope.use_case.startswith("TODO")
    assert "Next steps:" in out and "cd demo" in out and "lifecycle status" in out
    assert load_config(tmp_path / "demo" / "configs" / "model.yaml", ModelConfig).model == "google/flan-t5-base"


def test_every_question_is_a_flag(new, tmp_path):
    code, out, err = new(
        "triage", "--name", "ticket-triage", "--use-case", "Route support tickets to the right team",
        "--task", "classification", "--multi-task", "--sensitivity", "confidential", "--non-commercial",
        "--device", "gpu", "--gpu-memory", "80GB", "--num-gpus", "2", "--metric", "macro_f1", "--target", "0.8",
        "--adaptation", "peft", "--model", "distilbert-base-uncased", cwd=tmp_path)
    assert code == 0, err
    m = manifest(tmp_path / "triage")
    assert m.project.name == "ticket-triage" and m.project.package == "ticket_triage"
    s = m.scope
    assert (s.task.value, s.multi_task, s.data_sensitivity.value, s.commercial_use) == \
        ("classification", True, "confidential", False)
    assert (s.hardware.device.value, s.hardware.gpu_memory_gib, s.hardware.num_gpus) == ("gpu", 80.0, 2)
    assert (s.success.metric, s.success.target, s.adaptation.value) == ("macro_f1", 0.8, "peft")
    assert m.selection.model == "distilbert-base-uncased"
    assert "macro_f1 >= 0.8" in out


def test_answers_file_with_flags_overriding(new, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("name: qa-bot\nuse_case: Answer questions about our manuals\ntask: question_answering\n"
                       "device: cpu\nmetric: exact_match\ntarget: 0.5\n", encoding="utf-8")
    (tmp_path / "work").mkdir()
    code, out, err = new("--answers", answers, "--target", "0.6", cwd=tmp_path / "work")
    assert code == 0, err
    m = manifest(tmp_path / "work" / "qa-bot")
    assert (m.scope.task.value, m.scope.success.metric, m.scope.success.target) == ("question_answering", "exact_match", 0.6)
    assert m.scope.hardware.device.value == "cpu" and m.scope.hardware.gpu_memory_gib is None


def test_output_dir(new, tmp_path):
    (tmp_path / "parent").mkdir()
    code, out, err = new("demo", "--no-input", "-o", tmp_path / "parent", cwd=tmp_path)
    assert code == 0, err
    assert (tmp_path / "parent" / "demo" / "lifecycle.yaml").is_file()


def test_empty_existing_folder_is_fine(new, tmp_path):
    (tmp_path / "demo").mkdir()
    code, out, err = new("demo", "--no-input", cwd=tmp_path)
    assert code == 0, err
    assert (tmp_path / "demo" / "lifecycle.yaml").is_file()


def test_help_has_worked_examples(run_cli):
    proc = run_cli("new", "--help")
    assert proc.returncode == 0
    assert "lifecycle new demo --no-input --task summarization" in proc.stdout
    assert "--answers" in proc.stdout and "--force" in proc.stdout


def test_dot_scaffolds_into_the_current_empty_folder(new, tmp_path):
    here = tmp_path / "call-summaries"
    here.mkdir()
    code, out, err = new(".", "--no-input", cwd=here)
    assert code == 0, err
    assert manifest(here).project.name == "call-summaries"
    assert "cd " not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["call-summaries"]  # no staging left beside it
    code, out, err = new(".", "--no-input", cwd=here)  # no longer empty
    assert code != 0 and "already a lifecycle project" in err
