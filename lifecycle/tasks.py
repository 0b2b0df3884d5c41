"""The task registry: every per-task fact in one place (core layer: imports nothing from the stages).

One `TaskSpec` per task: the sample's fields, the prompt template, the metric suite, the default
success metric and target, the architectures that can do it, the default model and the real
dataset the sample stands in for. Everything else derives from this table or is tested against it:
the `Task` enum of lifecycle.yaml, the CLI's --task choices and help, the template's choices
(cookiecutter.json, prompts.yaml), configs/eval.yaml's suite, `lifecycle.testing.project` and the
test fixtures. A metric's direction is not stored here: the metric registry
(`lifecycle.evaluation.metrics.registry`) owns it, so `configs/eval.yaml` and `lifecycle eval metrics`
cannot disagree.

Adding a task = one `register_task(TaskSpec(...))` below plus `lifecycle/templates/project/_includes/samples/<name>.jsonl`;
`tests/registry/test_task_contract.py` then scaffolds, validates, prompts and scores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from lifecycle.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class SuiteMetric:
    """One entry of a task's metric suite: a metric (or group) name and why it is there."""

    name: str
    note: str


@dataclass(frozen=True)
class TaskSpec:
    name: str
    description: str                   # one line, for help texts
    fields: tuple[str, ...]            # every sample example has exactly these keys
    input_fields: tuple[str, ...]      # what the prompt reads
    reference_field: str               # what the model must produce
    template: str                      # configs/prompt.yaml `template`
    system: str | None                 # system message for chat templates
    metrics: tuple[SuiteMetric, ...]   # configs/eval.yaml suite; the first is the headline
    default_metric: str                # scope.success.metric unless the team says otherwise
    default_target: float              # a modest first target on the default metric's scale
    architectures: tuple[str, ...]     # which model architectures can do the task
    default_model: str
    dataset: str                       # the real dataset on the Hugging Face hub
    dataset_note: str                  # how its columns map onto the sample's fields
    max_new_tokens: int
    also_suits: tuple[str, ...] = ()   # metrics that fit the task but are not in the default suite

    @property
    def metric_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    @property
    def sample_file(self) -> str:
        """The sample data shipped for the task, under the template's samples folder."""
        return f"{self.name}.jsonl"

    def note(self, metric: str) -> str | None:
        return next((m.note for m in self.metrics if m.name == metric), None)


TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add a task. Checked here so that a broken entry fails at import, not in a user's project."""
    if spec.name in TASKS:
        raise ValueError(f"task '{spec.name}' is registered twice")
    if spec.default_metric not in spec.metric_names:
        raise ValueError(f"task '{spec.name}': default metric '{spec.default_metric}' is not in its suite")
    missing = [f for f in (*spec.input_fields, spec.reference_field) if f not in spec.fields]
    if missing:
        raise ValueError(f"task '{spec.name}': {', '.join(missing)} not among its fields")
    TASKS[spec.name] = spec
    return spec


_LENGTH = SuiteMetric("length", "words per prediction and reference; descriptive, watch it against the references")
_GENERATES = ("encoder-decoder", "decoder")  # generation needs a decoder
SEQ2SEQ_DEFAULT = "google/flan-t5-base"
CHAT_DEFAULT = "Qwen/Qwen2.5-0.5B-Instruct"

register_task(TaskSpec(
    name="summarization",
    description="condense a text or dialogue",
    fields=("id", "dialogue", "summary"),
    input_fields=("dialogue",),
    reference_field="summary",
    template="Summarize the following conversation.\n\n{dialogue}\n\nSummary:",
    system=None,
    metrics=(
        SuiteMetric("rouge1", "unigram overlap with the reference summary"),
        SuiteMetric("rouge2", "bigram overlap"),
        SuiteMetric("rougeL", "longest common subsequence"),
        SuiteMetric("rougeLsum", "rougeL over sentences"),
        _LENGTH,
    ),
    default_metric="rougeL", default_target=0.30,
    architectures=_GENERATES,
    default_model=SEQ2SEQ_DEFAULT,
    dataset="knkarthick/dialogsum",
    dataset_note="columns id, dialogue, summary (same names as the sample; turns start with #Person1#:)",
    max_new_tokens=128,
    also_suits=("chrf",),
))
register_task(TaskSpec(
    name="classification",
    description="pick a label for a text",
    fields=("id", "text", "label"),
    input_fields=("text",),
    reference_field="label",
    template="Is the sentiment of the following review positive or negative?\n\n{text}\n\nAnswer:",
    system=None,
    metrics=(
        SuiteMetric("accuracy", "share of predictions equal to the label"),
        SuiteMetric("macro_f1", "F1 per label, averaged (robust to label imbalance)"),
    ),
    default_metric="accuracy", default_target=0.85,
    architectures=("encoder", "encoder-decoder", "decoder"),
    default_model=SEQ2SEQ_DEFAULT,
    dataset="stanfordnlp/imdb",
    dataset_note="columns text, label (0/1): map 0 -> negative, 1 -> positive, add an id",
    max_new_tokens=8,
    also_suits=("off_label_rate",),
))
register_task(TaskSpec(
    name="question_answering",
    description="answer a question from a passage",
    fields=("id", "context", "question", "answer"),
    input_fields=("context", "question"),
    reference_field="answer",
    template="Read the passage and answer the question.\n\nPassage: {context}\n\nQuestion: {question}\n\nAnswer:",
    system=None,
    metrics=(
        SuiteMetric("exact_match", "normalised prediction equals the answer"),
        SuiteMetric("token_f1", "word-overlap F1 with the answer (SQuAD style)"),
    ),
    default_metric="token_f1", default_target=0.70,
    architectures=_GENERATES,
    default_model=SEQ2SEQ_DEFAULT,
    dataset="rajpurkar/squad",
    dataset_note="columns id, context, question, answers.text[0] -> answer",
    max_new_tokens=32,
))
register_task(TaskSpec(
    name="translation",
    description="translate from one language to another",
    fields=("id", "source", "target"),
    input_fields=("source",),
    reference_field="target",
    template="Translate the following German text to English.\n\n{source}\n\nEnglish:",
    system=None,
    metrics=(
        SuiteMetric("sacrebleu", "corpus BLEU, sacreBLEU's standard tokenisation"),
        SuiteMetric("chrf", "character n-gram F-score"),
    ),
    default_metric="sacrebleu", default_target=25.0,
    architectures=_GENERATES,
    default_model=SEQ2SEQ_DEFAULT,
    dataset="wmt/wmt16 (de-en)",
    dataset_note="translation.de -> source, translation.en -> target, add an id",
    max_new_tokens=128,
))
register_task(TaskSpec(
    name="chat",
    description="follow an instruction as an assistant",
    fields=("id", "instruction", "response"),
    input_fields=("instruction",),
    reference_field="response",
    template="{instruction}",
    system="You are a helpful, concise assistant.",
    metrics=(
        SuiteMetric("rougeL", "overlap with the reference response"),
        _LENGTH,
    ),
    default_metric="rougeL", default_target=0.25,
    architectures=("decoder",),
    default_model=CHAT_DEFAULT,
    also_suits=("rouge1", "rouge2", "rougeLsum"),
    dataset="databricks/databricks-dolly-15k",
    dataset_note="columns instruction, context, response: fold context into the instruction, add an id",
    max_new_tokens=256,
))

# The lifecycle.yaml `scope.task` values, derived from the table (a str Enum: pydantic and typer take it).
Task = Enum("Task", [(name, name) for name in TASKS], type=str, module=__name__)
Task.__doc__ = "A task from the registry (lifecycle.tasks.TASKS)."


def task_names() -> list[str]:
    return list(TASKS)


def task_help() -> str:
    """'summarization, classification, ...' for --task help texts."""
    return ", ".join(TASKS)


def get_task(name) -> TaskSpec:
    """The spec of a task (name or Task member); an unknown name fails with 'did you mean'."""
    key = getattr(name, "value", name)
    try:
        return TASKS[key]
    except (KeyError, TypeError):
        raise ConfigError(did_you_mean(str(key), list(TASKS), kind="task"),
                          hint=f"tasks: {task_help()}") from None


def tasks_for_metric(metric: str) -> tuple[str, ...]:
    """The tasks whose suite (or `also_suits`) names `metric` directly."""
    return tuple(t.name for t in TASKS.values() if metric in t.metric_names or metric in t.also_suits)
