"""Prompts for the evaluations that bring their own wording (`rag eval`, `tools eval`), built by the
same pipeline as `eval run`: the project's configs/prompt.yaml with only the wording and the data's
field names replaced, the examples through its `preprocess` function, rendered by PromptInputs (chat
template, system message, stop sequences and token budget as the project sets them)."""

from __future__ import annotations

from pathlib import Path

from lifecycle.config.prompt import PromptConfig, ShotsConfig


def task_prompt_config(project, template: str, target_field: str, *, budget: dict | None = None) -> PromptConfig:
    """configs/prompt.yaml (when present) with this template and target; zero-shot, no column mapping
    (the data is written by lifecycle itself), no labels. Kept: preprocess, stop, system, chat template."""
    from lifecycle.prompting.project_inputs import load_prompt_config

    update = {"template": template, "target_field": target_field, "id_field": "id", "fields": None,
              "answer_prefix": "", "labels": None, "preset": None, "shots": ShotsConfig()}
    if budget is not None:
        update["budget"] = budget
    if not project.path(project.manifest.adaptation.prompt).is_file():
        return PromptConfig.model_validate({k: v for k, v in update.items() if v is not None
                                            and k not in ("shots", "fields", "labels")})
    base = load_prompt_config(project)
    return PromptConfig.model_validate({**base.model_dump(exclude={"preset"}), **update,
                                        "shots": ShotsConfig().model_dump()})


def prepared(project, cfg: PromptConfig, examples: list[dict]) -> list[dict]:
    """Examples built in memory (with retrieved context) through the project's preprocess function."""
    from lifecycle.prompting.preprocess import project_preprocess

    return project_preprocess(project, cfg)(examples) or []


def render(cfg: PromptConfig, examples: list[dict], data_path: Path, loaded, settings) -> list:
    """The zero-shot prompts of prepared examples for a loaded model, as `eval run` renders them."""
    from lifecycle.prompting.project_inputs import PromptInputs

    reserve = 0 if loaded.encoder_decoder else settings.max_new_tokens
    return PromptInputs.for_model(loaded, cfg, examples, reserve_tokens=reserve, data_path=Path(data_path)).build(0)
