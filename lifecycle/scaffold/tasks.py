"""What each task type means for a new project: data fields, prompt, metric suite, default model,
and the real dataset the sample stands in for. One table, read by the answers model, the template
(through the Jinja extension) and the tests."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.manifest import Task


@dataclass(frozen=True)
class MetricDef:
    name: str
    higher_is_better: bool
    note: str


@dataclass(frozen=True)
class TaskSpec:
    task: Task
    fields: tuple[str, ...]          # every sample example has exactly these keys
    input_fields: tuple[str, ...]    # what the prompt reads
    reference_field: str             # what the model must produce
    template: str                    # configs/prompt.yaml `template`
    system: str | None               # system message for chat templates
    metrics: tuple[MetricDef, ...]   # configs/eval.yaml suite; the first is the headline
    default_model: str
    dataset: str                     # the real dataset on the Hugging Face hub
    dataset_note: str                # how its columns map onto the sample's fields
    max_new_tokens: int

    @property
    def metric_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def metric(self, name: str) -> MetricDef:
        return next(m for m in self.metrics if m.name == name)


_LENGTH = MetricDef("length", False, "mean words per prediction; informational, watch it against the references")

SEQ2SEQ_DEFAULT = "google/flan-t5-base"
CHAT_DEFAULT = "Qwen/Qwen2.5-0.5B-Instruct"

TASKS: dict[Task, TaskSpec] = {
    Task.summarization: TaskSpec(
        task=Task.summarization,
        fields=("id", "dialogue", "summary"),
        input_fields=("dialogue",),
        reference_field="summary",
        template="Summarize the following conversation.\n\n{dialogue}\n\nSummary:",
        system=None,
        metrics=(
            MetricDef("rouge1", True, "unigram overlap with the reference summary"),
            MetricDef("rouge2", True, "bigram overlap"),
            MetricDef("rougeL", True, "longest common subsequence"),
            MetricDef("rougeLsum", True, "rougeL over sentences"),
            _LENGTH,
        ),
        default_model=SEQ2SEQ_DEFAULT,
        dataset="knkarthick/dialogsum",
        dataset_note="columns id, dialogue, summary (same names as the sample; turns start with #Person1#:)",
        max_new_tokens=128,
    ),
    Task.classification: TaskSpec(
        task=Task.classification,
        fields=("id", "text", "label"),
        input_fields=("text",),
        reference_field="label",
        template="Is the sentiment of the following review positive or negative?\n\n{text}\n\nAnswer:",
        system=None,
        metrics=(
            MetricDef("accuracy", True, "share of predictions equal to the label"),
            MetricDef("macro_f1", True, "F1 per label, averaged (robust to label imbalance)"),
        ),
        default_model=SEQ2SEQ_DEFAULT,
        dataset="stanfordnlp/imdb",
        dataset_note="columns text, label (0/1): map 0 -> negative, 1 -> positive, add an id",
        max_new_tokens=8,
    ),
    Task.question_answering: TaskSpec(
        task=Task.question_answering,
        fields=("id", "context", "question", "answer"),
        input_fields=("context", "question"),
        reference_field="answer",
        template="Read the passage and answer the question.\n\nPassage: {context}\n\nQuestion: {question}\n\nAnswer:",
        system=None,
        metrics=(
            MetricDef("exact_match", True, "normalised prediction equals the answer"),
            MetricDef("token_f1", True, "word-overlap F1 with the answer (SQuAD style)"),
        ),
        default_model=SEQ2SEQ_DEFAULT,
        dataset="rajpurkar/squad",
        dataset_note="columns id, context, question, answers.text[0] -> answer",
        max_new_tokens=32,
    ),
    Task.translation: TaskSpec(
        task=Task.translation,
        fields=("id", "source", "target"),
        input_fields=("source",),
        reference_field="target",
        template="Translate the following German text to English.\n\n{source}\n\nEnglish:",
        system=None,
        metrics=(
            MetricDef("sacrebleu", True, "corpus BLEU, sacreBLEU's standard tokenisation"),
            MetricDef("chrf", True, "character n-gram F-score"),
        ),
        default_model=SEQ2SEQ_DEFAULT,
        dataset="wmt/wmt16 (de-en)",
        dataset_note="translation.de -> source, translation.en -> target, add an id",
        max_new_tokens=128,
    ),
    Task.chat: TaskSpec(
        task=Task.chat,
        fields=("id", "instruction", "response"),
        input_fields=("instruction",),
        reference_field="response",
        template="{instruction}",
        system="You are a helpful, concise assistant.",
        metrics=(
            MetricDef("rougeL", True, "overlap with the reference response"),
            _LENGTH,
        ),
        default_model=CHAT_DEFAULT,
        dataset="databricks/databricks-dolly-15k",
        dataset_note="columns instruction, context, response: fold context into the instruction, add an id",
        max_new_tokens=256,
    ),
}


def spec(task: Task | str) -> TaskSpec:
    return TASKS[Task(task)]
