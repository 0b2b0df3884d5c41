"""configs/prompt.yaml: how an example becomes a prompt (zero/one/few-shot) and how long it may be.

`preset` starts from a built-in prompt (`lifecycle prompt presets`); any field written next to it
overrides the preset's value. `lifecycle.prompting.resolve_prompt_config` does the merge."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShotsConfig(Strict):
    k: int = Field(default=0, ge=0, le=64,
                   description="Number of solved examples (shots) before the query (fixed: default len(ids)).")
    selection: Literal["first", "random", "fixed"] = Field(
        default="first", description="first: the pool's first K; random: K drawn per example (seeded); fixed: `ids`.")
    ids: list[str] = Field(default_factory=list, description="Example ids for selection: fixed, in order.")
    seed: int = Field(default=42, description="Seed for selection: random (the draw for an example depends only on seed and id).")
    pool: Optional[str] = Field(default=None, description="JSONL file to draw shots from; default: the dataset itself.")

    @model_validator(mode="after")
    def _fixed_needs_ids(self) -> "ShotsConfig":
        if self.selection == "fixed" and not self.ids:
            raise ValueError("selection 'fixed' needs a list of ids")
        if self.selection == "fixed" and "k" not in self.model_fields_set:
            self.k = len(self.ids)  # listing the shots means using them all unless k says otherwise
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("ids must not repeat")
        return self


class BudgetConfig(Strict):
    policy: Literal["auto", "truncate", "error"] = Field(
        default="auto",
        description="auto: cut the input field to make room for the K shots (keeping `keep_input` of it), then "
        "drop shots, then cut further: always fits unless the template alone is too long; truncate: keep the K "
        "shots and cut the input field; error: refuse any prompt that does not fit. Every cut or dropped shot is "
        "recorded per example.")
    keep_input: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="auto: the share of the input field's tokens that must survive before a shot is dropped "
        "instead of cutting more (0: always keep the K shots; 1: never cut while a shot can be dropped).")
    truncate_field: Optional[str] = Field(default=None, description="Field to cut under 'truncate' (default: the longest).")
    truncate_side: Literal["left", "right"] = Field(
        default="right", description="Which end of the field is cut: right keeps the start, left keeps the end.")


class PromptConfig(Strict):
    # Editors see the rule the validator enforces: a preset, or a template with its target field.
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "anyOf": [{"required": ["preset"]}, {"required": ["template", "target_field"]}]})

    preset: Optional[str] = Field(default=None, description="Start from a built-in preset (`lifecycle prompt presets`).")
    template: Optional[str] = Field(
        default=None, description="Instruction template with {field} placeholders from the data ({{ }} for literal braces).")
    answer_prefix: str = Field(default="", description="Text after the template; in shots it precedes the answer.")
    target_field: Optional[str] = Field(
        default=None, description="Field holding the reference answer (used for shots and evaluation).")
    id_field: str = "id"
    fields: Optional[dict[str, str]] = Field(
        default=None, description="Read data whose columns have other names: {name the template and configs "
        "use: column in the data}, e.g. {dialogue: text, summary: highlights}. Applies wherever the project reads "
        "data (sample, eval set, shot pool, training data), in any format (JSONL, CSV, parquet, save_to_disk, hub).")
    preprocess: Optional[str] = Field(
        default=None, description="Your function that prepares each example before the template is filled "
        "(shots too, and training examples): `<package>.<module>:<function>` in the project's src/ package, taking "
        "and returning a dict.", pattern=r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$")
    separator: str = Field(default="\n\n\n", description="Between shots and before the query.")
    stop: list[str] = Field(default_factory=list, description="Stop sequences; the output is cut at the first.")
    use_chat_template: Literal["auto", "always", "never"] = Field(
        default="auto", description="auto: use the tokenizer's chat template when it has one (shots become prior turns).")
    system: Optional[str] = Field(default=None, description="System message for chat templates.")
    shots: ShotsConfig = Field(default_factory=ShotsConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    labels: Optional[list[str]] = Field(
        default=None, description="Classification: the label set. Answers are normalised (first line, case, "
        "whitespace, trailing punctuation) and scored against it: macro-F1 over every label, off_label_rate, "
        "confusion matrix. Default: lifecycle.yaml scope.labels.")

    @model_validator(mode="after")
    def _template_or_preset(self) -> "PromptConfig":
        if self.preset is None:
            missing = [name for name in ("template", "target_field") if getattr(self, name) is None]
            if missing:
                raise ValueError(f"{' and '.join(missing)} required unless `preset` is set "
                                 "(see `lifecycle prompt presets`)")
        if any(s == "" for s in self.stop):
            raise ValueError("stop sequences must not be empty strings")
        if self.labels is not None:
            _check_labels(self.labels)
        if self.fields:
            columns = list(self.fields.values())
            twice = sorted({c for c in columns if columns.count(c) > 1})
            if twice:
                raise ValueError(f"fields: column {twice[0]!r} is mapped to more than one name")
            if any(not k.strip() or not v.strip() for k, v in self.fields.items()):
                raise ValueError("fields: names and columns must not be empty")
        return self


def _check_labels(labels: list[str]) -> None:
    """A label set that normalised answers can be matched against: non-empty, no two labels the same
    after normalisation (they could never be told apart)."""
    from lifecycle.evaluation.text import label_normalize

    if not labels:
        raise ValueError("labels must list at least one label")
    seen: dict[str, str] = {}
    for lab in labels:
        key = label_normalize(lab)
        if not key:
            raise ValueError(f"label {lab!r} is empty after normalisation")
        if key in seen:
            raise ValueError(f"labels {seen[key]!r} and {lab!r} are the same after normalisation ({key!r})")
        seen[key] = lab
