"""configs/prompt.yaml: how an example becomes a prompt (zero/one/few-shot) and how long it may be.

`preset` starts from a built-in prompt (`lifecycle prompt presets`); any field written next to it
overrides the preset's value; `resolve_prompt_config` below does the merge (the presets live here,
next to the schema they fill, so that every layer can resolve a config without the prompting stage).

The dialogue presets are the course lab's FLAN-T5 prompts: no prompt at all, the instruction prompt
and the FLAN template "Dialogue: ... What was going on?", whose answer follows a newline as in the
lab's few-shot prompt. (The lab's f-strings also open each block with a newline; T5's tokenizer
drops it, so the model sees the same tokens.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lifecycle.errors import PromptError, did_you_mean
from lifecycle.normalize import label_normalize


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


# built-in presets ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preset:
    name: str
    task: str
    description: str
    fields: dict = field(default_factory=dict)  # PromptConfig fields

    def query_preview(self) -> str:
        """The zero-shot prompt with placeholders left in, for `lifecycle prompt presets`."""
        return self.fields.get("template", "") + self.fields.get("answer_prefix", "")


def _p(name: str, task: str, description: str, **fields) -> Preset:
    return Preset(name, task, description, fields)


_ALL = [
    _p("dialogue-none", "summarization", "The lab's baseline: the bare dialogue, no instruction.",
       template="{dialogue}", target_field="summary"),
    _p("dialogue-instruction", "summarization", "The lab's instruction prompt (FLAN-T5).",
       template="Summarize the following conversation.\n\n{dialogue}\n\n", answer_prefix="Summary: ",
       target_field="summary"),
    _p("dialogue-flan", "summarization", "The FLAN template 'Dialogue: ... What was going on?' (FLAN-T5).",
       template="Dialogue:\n\n{dialogue}\n\nWhat was going on?", answer_prefix="\n", target_field="summary"),
    _p("text-summary", "summarization", "Generic summarization of a `text` field.",
       template="Summarize the following text.\n\n{text}\n\n", answer_prefix="Summary: ", target_field="summary"),
    _p("sentiment", "classification", "Binary sentiment of a review (`text` -> `label`).",
       template="Is the sentiment of the following review positive or negative?\n\n{text}\n\n",
       answer_prefix="Answer: ", target_field="label", separator="\n\n"),
    _p("text-label", "classification", "Bare text -> label, for fine-tuned classifiers.",
       template="{text}", target_field="label"),
    _p("qa-context", "question_answering", "Extractive QA over a passage (`context`, `question` -> `answer`).",
       template="Read the passage and answer the question.\n\nPassage: {context}\n\nQuestion: {question}\n\n",
       answer_prefix="Answer: ", target_field="answer", separator="\n\n"),
    _p("qa-closed", "question_answering", "Closed-book QA (`question` -> `answer`).",
       template="Question: {question}\n\n", answer_prefix="Answer: ", target_field="answer", separator="\n\n"),
    _p("translate-de-en", "translation", "German -> English (`source` -> `target`).",
       template="Translate the following German text to English.\n\n{source}\n\n", answer_prefix="English: ",
       target_field="target", separator="\n\n"),
    _p("translate-en-de", "translation", "English -> German, T5 style (`source` -> `target`).",
       template="translate English to German: {source}", answer_prefix="\n", target_field="target",
       separator="\n\n"),
    _p("chat-instruction", "chat", "An instruction as the user turn; chat template when the tokenizer has one.",
       template="{instruction}", target_field="response", system="You are a helpful, concise assistant.",
       use_chat_template="auto"),
]

PRESETS: dict[str, Preset] = {p.name: p for p in _ALL}


def presets_for(task: str | None = None) -> list[Preset]:
    task = getattr(task, "value", task)
    return [p for p in _ALL if task is None or p.task == task]


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise PromptError(did_you_mean(name, PRESETS, kind="prompt preset"),
                          hint="list them with `lifecycle prompt presets`") from None


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if value is None and key in out:  # `template: null` next to a preset means "the preset's"
            continue
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def resolve_prompt_config(cfg: PromptConfig) -> PromptConfig:
    """The config with its preset applied: preset values first, then every field the user set
    (a field set to null keeps the preset's value; `system: ""` removes a preset's system message).

    Idempotent; a config without a preset is returned as is."""
    if cfg.preset is None:
        return cfg
    preset = get_preset(cfg.preset)
    merged = _merge(preset.fields, cfg.model_dump(exclude_unset=True))
    return PromptConfig.model_validate(merged)
