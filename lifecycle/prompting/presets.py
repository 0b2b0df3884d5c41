"""Built-in prompt presets per task, and merging a config's `preset` with its own fields.

The dialogue presets are the course lab's FLAN-T5 prompts: no prompt at all, the instruction prompt
and the FLAN template "Dialogue: ... What was going on?", whose answer follows a newline as in the
lab's few-shot prompt. (The lab's f-strings also open each block with a newline; T5's tokenizer
drops it, so the model sees the same tokens.)"""

from __future__ import annotations

from dataclasses import dataclass, field

from lifecycle.config.prompt import PromptConfig
from lifecycle.errors import PromptError, did_you_mean


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
