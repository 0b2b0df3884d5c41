"""`lifecycle prompt render | budget | presets` as a user runs them in a project."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lifecycle.config.prompt import PromptConfig
from lifecycle.config.yaml_io import update_yaml
from lifecycle.prompting import format_example, prompt_lengths


@pytest.fixture
def cli(monkeypatch, capsys):
    """cli(*args, cwd=...) -> (exit code, stdout, stderr), in-process through the real entry point."""
    from lifecycle.cli.main import run

    def invoke(*args, cwd):
        monkeypatch.chdir(cwd)
        with pytest.raises(SystemExit) as exit_:
            run([str(a) for a in args])
        out = capsys.readouterr()
        return exit_.value.code, out.out, out.err

    return invoke


@pytest.fixture
def project(make_project, tiny_t5):
    return make_project("summarization", model=tiny_t5)


def test_render_prints_the_exact_prompt_and_its_token_count(cli, project, examples, t5_tok):
    code, out, err = cli("prompt", "render", cwd=project)
    assert code == 0, err
    cfg = PromptConfig(template="Summarize the following conversation.\n\n{dialogue}\n\nSummary:", target_field="summary")
    text = format_example(examples[0], cfg)
    assert f"---\n{text}\n--- end of prompt ---" in out
    n = len(t5_tok(text)["input_ids"])
    assert f"tokens: {n} of 512 tokens (context window 512; encoder-decoder)" in out
    assert "shots: 0 of 0" in out and "truncated: no" in out


def test_render_shots_example_and_json(cli, project, examples):
    code, out, _ = cli("prompt", "render", "--shots", "2", "--example", "s3", "--json", cwd=project)
    assert code == 0
    data = json.loads(out)
    assert data["id"] == "s3" and data["shot_ids"] == ["s1", "s2"] and data["shots_used"] == 2
    assert data["text"].count("Summarize the following conversation.") == 3
    assert examples[0]["summary"] in data["text"] and examples[2]["summary"] not in data["text"]
    code, out, _ = cli("prompt", "render", "--preset", "dialogue-flan", "--example", "s2", "--json", cwd=project)
    assert json.loads(out)["text"] == f"Dialogue:\n\n{examples[1]['dialogue']}\n\nWhat was going on?\n"


def test_render_unknown_example(cli, project):
    code, _, err = cli("prompt", "render", "--example", "s99", cwd=project)
    assert code == 1 and "unknown example id 's99'" in err and "Traceback" not in err


def test_render_chat_model_and_decoder_only_budget(cli, project, tiny_chat):
    code, out, err = cli("prompt", "render", "--shots", "1", "--model", tiny_chat, cwd=project)
    assert code == 0, err
    assert "chat template" in out and "<|user|>" in out and out.count("<|assistant|>") == 2
    # generation.yaml of the test project has max_new_tokens: 16; GPT-2's window is 512.
    assert "of 496 tokens (context window 512 - 16 max_new_tokens; decoder-only)" in out


def test_budget_table_matches_the_tokenizer(cli, project, examples, t5_tok):
    code, out, err = cli("prompt", "budget", "--json", cwd=project)
    assert code == 0, err
    report = json.loads(out)
    cfg = PromptConfig(template="Summarize the following conversation.\n\n{dialogue}\n\nSummary:", target_field="summary")
    assert [r["k"] for r in report["rows"]] == [0, 1, 3, 5] and report["n"] == len(examples)
    fitting = []
    for row in report["rows"]:
        lengths = prompt_lengths(examples, cfg, t5_tok, k=row["k"])
        assert row["p50"] == pytest.approx(np.percentile(lengths, 50))
        assert row["p95"] == pytest.approx(np.percentile(lengths, 95))
        assert row["max"] == max(lengths)
        assert row["fit"] == sum(n <= 512 for n in lengths)
        if row["fit"] == len(examples):
            fitting.append(row["k"])
    assert report["largest_k_fitting_all"] == max(fitting)
    code, out, _ = cli("prompt", "budget", "--shots", "0,1", cwd=project)
    assert code == 0 and "largest K that fits all 8 examples" in out and "p95" in out


def test_budget_k_larger_than_the_pool_is_reported_on_its_row(cli, project):
    code, out, _ = cli("prompt", "budget", "--shots", "0,9", cwd=project)
    assert code == 0
    assert "9 shots asked for but there are only 8 examples in the shot pool" in out
    code, _, err = cli("prompt", "budget", "--shots", "0,x", cwd=project)
    assert code == 2 and "comma-separated list of integers" in err


def test_render_k_larger_than_the_pool_is_an_error(cli, project):
    code, _, err = cli("prompt", "render", "--shots", "8", cwd=project)
    assert code == 1 and "example 's1' is one of the 8 examples in the shot pool" in err


def test_dataset_line_that_is_not_json(cli, project):
    sample = project / "data" / "sample.jsonl"
    lines = sample.read_text(encoding="utf-8").splitlines()
    lines[2] = '{"id": "s3", "dialogue": "broken'
    sample.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for cmd in ("render", "budget"):
        code, _, err = cli("prompt", cmd, cwd=project)
        assert code == 1 and f"{sample}:3: not valid JSON" in err


def test_empty_dataset(cli, project):
    (project / "data" / "sample.jsonl").write_text("\n", encoding="utf-8")
    code, _, err = cli("prompt", "budget", cwd=project)
    assert code == 1 and "no examples" in err


def test_template_field_the_data_lacks(cli, project):
    update_yaml(project / "configs" / "prompt.yaml", {("template",): "Summarize: {conversation}"})
    code, _, err = cli("prompt", "render", cwd=project)
    assert code == 1
    assert "prompt template field 'conversation' is not in example 's1'; available fields: dialogue, id, summary" in err


def test_example_too_long_even_with_zero_shots(cli, project):
    update_yaml(project / "configs" / "model.yaml", {("max_context",): 40})
    update_yaml(project / "configs" / "prompt.yaml", {("budget", "policy"): "error"})
    code, _, err = cli("prompt", "render", "--example", "s2", cwd=project)
    assert code == 1
    assert "example 's2' needs" in err and "with 0 shots but the budget is 40 (context window 40)" in err
    assert "hint:" in err and "budget.policy: auto" in err
    for policy in ("truncate", "auto"):  # both cut the input (auto: it has no shot to drop at K=0)
        update_yaml(project / "configs" / "prompt.yaml", {("budget", "policy"): policy})
        code, out, err = cli("prompt", "render", "--example", "s2", cwd=project)
        assert code == 0, err
        assert "tokens cut from the end of 'dialogue'" in out


def test_presets(cli, project):
    code, out, _ = cli("prompt", "presets", "--task", "summarization", cwd=project)
    assert code == 0
    for name in ("dialogue-none", "dialogue-instruction", "dialogue-flan"):
        assert name in out
    assert '"Dialogue:\\n\\n{dialogue}\\n\\nWhat was going on?"' in out
    assert "sentiment" not in out
    code, _, err = cli("prompt", "presets", "--task", "summarisation", cwd=project)
    assert code == 1 and "did you mean 'summarization'" in err


def test_cli_subprocess_exit_code_and_one_line_error(run_cli, project):
    update_yaml(project / "configs" / "prompt.yaml", {("preset",): "dialogue-flna"})
    res = run_cli("prompt", "render", cwd=project)
    assert res.returncode == 1
    assert res.stderr.startswith("error: unknown prompt preset 'dialogue-flna'; did you mean 'dialogue-flan'")
    assert "Traceback" not in res.stderr


def test_shot_pool_file_and_preset_override(cli, project, examples):
    pool = [{"id": "s1", "dialogue": "#Person1#: Pool one.", "summary": "Pool summary one."},
            {"id": "x2", "dialogue": "#Person1#: Pool two.", "summary": "Pool summary two."}]
    (project / "data" / "shots.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pool), encoding="utf-8")
    update_yaml(project / "configs" / "prompt.yaml", {("shots", "pool"): "data/shots.jsonl", ("shots", "k"): 1})
    code, out, err = cli("prompt", "render", "--json", "--preset", "dialogue-flan", cwd=project)
    assert code == 0, err
    data = json.loads(out)
    # s1 is asked about, so the pool's s1 (same id) is skipped; K comes from the file, wording from the preset.
    assert data["id"] == "s1" and data["shot_ids"] == ["x2"]
    assert data["text"] == ("Dialogue:\n\n#Person1#: Pool two.\n\nWhat was going on?\nPool summary two.\n\n\n"
                            f"Dialogue:\n\n{examples[0]['dialogue']}\n\nWhat was going on?\n")
    update_yaml(project / "configs" / "prompt.yaml", {("shots", "pool"): "data/missing.jsonl"})
    code, _, err = cli("prompt", "render", cwd=project)
    assert code == 1 and "missing.jsonl: file not found" in err


def test_prompt_modules_do_not_import_heavy_libraries():
    import subprocess
    import sys

    code = ("import sys, lifecycle.cli.main, lifecycle.prompting, lifecycle.prompting.project_inputs; "
            "heavy = [m for m in ('torch', 'transformers', 'tokenizers', 'numpy') if m in sys.modules]; "
            "assert not heavy, heavy")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_render_reports_dropped_shots(cli, project, examples, t5_tok):
    zero = prompt_lengths(examples, PromptConfig(template="Summarize the following conversation.\n\n{dialogue}\n\nSummary:",
                                                 target_field="summary"), t5_tok, k=1)
    update_yaml(project / "configs" / "model.yaml", {("max_context",): zero[0] + 5})
    code, out, err = cli("prompt", "render", "--shots", "3", cwd=project)
    assert code == 0, err
    assert "shots: 1 of 3 (s2) - shots dropped to fit the budget" in out
