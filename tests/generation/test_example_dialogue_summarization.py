"""examples/dialogue-summarization: every command its README shows runs, in order, on a copy of the
example with a tiny local model in place of google/flan-t5-base (`--model`, as the README says)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dialogue-summarization"


def readme_commands() -> list[list[str]]:
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [shlex.split(line)[1:] for block in blocks for line in block.splitlines() if line.startswith("lifecycle ")]


def test_readme_states_the_real_model_and_dataset():
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    assert "google/flan-t5-base" in text and "knkarthick/dialogsum" in text
    assert "google/flan-t5-base" in (EXAMPLE / "configs" / "model.yaml").read_text()
    steps = [" ".join(c) for c in readme_commands()]
    for wanted in ("--prompt-preset dialogue-none", "--prompt-preset dialogue-flan", "--shots 0,1,2",
                   "generation-sampling.yaml", "generation-cold.yaml", "generation-creative.yaml"):
        assert any(wanted in s for s in steps), wanted


def test_every_config_of_the_example_is_valid():
    from lifecycle.config.generation import GenerationSettings
    from lifecycle.config.model import ModelConfig
    from lifecycle.config.prompt import PromptConfig
    from lifecycle.config.yaml_io import load_config
    from lifecycle.manifest import load_manifest

    load_manifest(EXAMPLE / "lifecycle.yaml")
    load_config(EXAMPLE / "configs" / "model.yaml", ModelConfig)
    load_config(EXAMPLE / "configs" / "prompt.yaml", PromptConfig)
    gens = sorted((EXAMPLE / "configs").glob("generation*.yaml"))
    assert len(gens) == 4
    for f in gens:
        assert f.read_text().startswith("# Used by: lifecycle generate")
        load_config(f, GenerationSettings)


@pytest.mark.slow
def test_the_lab_walkthrough_runs_end_to_end(tmp_path, cli, lively_t5):
    from lifecycle.runs.store import RunStore

    work = tmp_path / "dialogue-summarization"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("runs", "models"))
    commands = readme_commands()
    assert len(commands) >= 9
    for args in commands:
        r = cli(*args, "--model", lively_t5, cwd=work)
        assert r.returncode == 0, f"lifecycle {' '.join(args)}\n{r.stdout}\n{r.stderr}"
    runs = RunStore(work / "runs").list(kind="generate")
    generate_calls = [a for a in commands if a[0] == "generate"]
    ladder = sum(len(a[a.index("--shots") + 1].split(",")) - 1 for a in generate_calls if "--shots" in a)
    assert len(runs) == len(generate_calls) + ladder
    templates = {r.meta["config"]["prompt"]["template"].split("\n")[0] for r in runs}
    assert {"{dialogue}", "Summarize the following conversation.", "Dialogue:"} <= templates
    presets = {(r.meta["config"]["generation"]["preset"], r.meta["config"]["generation"]["temperature"]) for r in runs}
    assert {("greedy", None), ("sampling", 0.7), ("sampling", 0.1), ("sampling", 1.5), ("beam", None)} <= presets
    shots = sorted({r.meta["shots"] for r in runs})
    assert shots == [0, 1, 2]
    for run in runs:
        records = run.read_predictions()
        assert len(records) == 3 and all(rec["references"] for rec in records)
