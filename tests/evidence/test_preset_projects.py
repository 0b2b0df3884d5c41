"""`lifecycle status` / `check` on a project whose configs/prompt.yaml starts from a `preset:`
(the shipped dialogue-summarization example) read the preset's template instead of crashing."""

from __future__ import annotations

import shutil
from pathlib import Path

from evidence_helpers import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dialogue-summarization"


def test_status_and_check_on_the_preset_example(tmp_path, capsys):
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root)
    assert "preset:" in (root / "configs" / "prompt.yaml").read_text()
    code, out, err = cli(capsys, "status", cwd=root)
    assert code == 0, err
    assert "Traceback" not in out + err and "NoneType" not in out + err
    assert "lifecycle status" in out
    code, out, err = cli(capsys, "check", "scope", cwd=root)
    assert "Traceback" not in out + err and "NoneType" not in out + err
    # the data check ran against the preset's fields ({dialogue} -> summary), not a crash or a block
    assert "scope.data_sample" in out and "dialogue" not in err


def test_the_eval_key_of_checks_matches_eval_run_for_a_preset(tmp_path):
    """Checks resolve the preset as `eval run` does, so its runs are found on the current eval set."""
    from lifecycle.checks.context import CheckContext
    from lifecycle.checks.evidence import current_eval_key
    from lifecycle.evaluation.runner import prepare
    from lifecycle.project import Project

    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root)
    ctx = CheckContext(root)
    assert ctx.prompt_config.template.startswith("Summarize the following conversation.")
    assert current_eval_key(ctx) == prepare(Project(root)).eval_key


def test_an_unknown_preset_blocks_checks_with_one_line(tmp_path, capsys):
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root)
    prompt = root / "configs" / "prompt.yaml"
    prompt.write_text(prompt.read_text().replace("preset: dialogue-instruction", "preset: dialogue-instructon"))
    code, out, err = cli(capsys, "status", cwd=root)
    assert code == 0, err
    assert "Traceback" not in out + err
    code, out, err = cli(capsys, "check", "adapt", cwd=root)
    assert "Traceback" not in out + err and "did you mean 'dialogue-instruction'" in out
