"""PAL-style tool use: the model answers with an arithmetic expression, the calculator computes the
answer; the accuracy with and without the tool on the generated set (lifecycle.tools.arithmetic)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from lifecycle.evaluation.metrics.scorers import Scores, mean_scores
from lifecycle.tools.calculator import CalculatorError, evaluate, format_number

# An explicit "Expression: ..." line wins; otherwise the longest run of arithmetic characters.
_LABELLED = re.compile(r"(?:expression|calc(?:ulate)?)\s*[:=]\s*([0-9\s.+\-*/%()^]+)", re.IGNORECASE)
_SPAN = re.compile(r"[0-9(][0-9\s.+\-*/%()^]*")
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")

DIRECT_TEMPLATE = "Answer with a number.\nQuestion: {question}\nAnswer:"
TOOL_TEMPLATE = "Write the arithmetic expression; a calculator computes it.\nQuestion: {question}\nExpression:"


def extract_expression(output: str) -> str | None:
    m = _LABELLED.search(output)
    if m and m.group(1).strip():
        return m.group(1).strip()
    spans = [s.strip() for s in _SPAN.findall(output) if s.strip()]
    return max(spans, key=len) if spans else None


def tool_answer(output: str) -> tuple[str | None, str | None]:
    """(computed answer, error): the model's expression evaluated by the calculator."""
    expr = extract_expression(output)
    if expr is None:
        return None, "no arithmetic expression in the output"
    try:
        return format_number(evaluate(expr)), None
    except CalculatorError as err:
        return None, err.message


def direct_answer(output: str) -> str | None:
    """The first number in a free-text answer (thousands separators removed)."""
    m = _NUMBER.search(output)
    return m.group(0).replace(",", "") if m else None


def same_number(answer: str | None, reference: str, tol: float = 1e-6) -> bool:
    if answer is None:
        return False
    try:
        a, b = float(answer), float(reference)
    except ValueError:
        return answer.strip() == reference.strip()
    return abs(a - b) <= tol * max(1.0, abs(b))


def accuracy(answers: Sequence[str | None], references: Sequence[str]) -> Scores:
    return mean_scores([float(same_number(a, r)) for a, r in zip(answers, references)])


PROMPTS = {"direct": DIRECT_TEMPLATE, "tool": TOOL_TEMPLATE}
METRICS = ("exact_match",)  # the answers are canonical non-negative integers: exact match is accuracy


@dataclass
class ToolEvalResult:
    runs: dict[str, object]      # role -> eval Run ("direct", "tool")
    accuracy: dict[str, float]   # role -> exact match
    comparison: dict             # tool - direct, paired (lifecycle.evaluation.statistics.bootstrap), as `eval compare` computes it


def _eval_config(project, data: Path, samples: int):
    from lifecycle.config.eval import EvalConfig

    return EvalConfig.model_validate({
        "task": project.manifest.scope.task.value if hasattr(project.manifest.scope.task, "value")
        else str(project.manifest.scope.task),
        "dataset": {"path": str(data), "id_field": "id", "input_fields": ["question"], "reference_field": "answer"},
        "metrics": [{"name": m} for m in METRICS], "shots": [0], "bootstrap_samples": samples})


class _ToolEvalProject:
    """The project as `eval run` sees it, with the arithmetic set as its eval set and the direct
    question as its prompt: both runs get the same eval key (same data, references and task wording),
    so `lifecycle eval compare` pairs them; the tool is the treatment, recorded in run.yaml `tool`."""

    def __init__(self, project, eval_cfg, prompt_cfg) -> None:
        self._project, self._eval, self._prompt = project, eval_cfg, prompt_cfg

    def __getattr__(self, name):
        return getattr(self._project, name)

    def eval_config(self):
        return self._eval

    def prompt_config(self):
        return self._prompt


def _prediction(role: str, gen_text: str) -> dict:
    """What each role scores: the number the model wrote (direct), or its expression computed by the
    calculator (tool); "" when there is none, which never matches a reference."""
    if role == "direct":
        answer = direct_answer(gen_text)
        return {"prediction": answer or "", "output": gen_text}
    answer, err = tool_answer(gen_text)
    return {"prediction": answer or "", "output": gen_text, "expression": extract_expression(gen_text),
            "tool_error": err}


def run_tool_eval(project, data: str | Path, *, limit: int | None = None, samples: int = 1000,
                  permutations: int = 10000, argv: list[str] | None = None, progress: bool = False) -> ToolEvalResult:
    """Accuracy with vs without the calculator on an arithmetic set (JSONL: id, question, answer), with
    the project's model and generation settings: two eval runs (one per role) scored like any `eval
    run`, then compared by `lifecycle eval compare`'s paired test (its compare run is written too).
    Prompts go through the project's prompt pipeline (preprocess, chat template, budget)."""
    from lifecycle.evaluation.compare import CompareSettings, compare_runs
    from lifecycle.evaluation.roles import role_of_model
    from lifecycle.evaluation.runner import EvalOptions, run_eval
    from lifecycle.generation.engine import Engine
    from lifecycle.generation.runner import prediction_record
    from lifecycle.paths import safe_path
    from lifecycle.prompting.project_inputs import load_prompt_examples
    from lifecycle.rag.evaluate import _model, _settings
    from lifecycle.hashing import stable_hash
    from lifecycle.rag.task_prompt import render, task_prompt_config

    data = safe_path(Path(data)).resolve()
    cfgs = {role: task_prompt_config(project, template, "answer") for role, template in PROMPTS.items()}
    view = _ToolEvalProject(project, _eval_config(project, data, samples), cfgs["direct"])
    examples = {role: load_prompt_examples(project, cfg, data, limit=limit)[0] for role, cfg in cfgs.items()}
    model_cfg, loaded = _model(project)
    settings = _settings(project)
    prompts = {role: render(cfgs[role], examples[role], data, loaded, settings) for role in PROMPTS}
    engine = Engine(loaded, settings, stop=cfgs["direct"].stop, progress=progress)
    described = loaded.describe()
    folder = project.tool_dir / "tools"
    runs, accuracy = {}, {}
    for role, ps in prompts.items():
        records: list[dict | None] = [None] * len(ps)
        for i, gen in engine.iter_generate(ps):
            rec = prediction_record(ps[i], gen, ps[i].id)
            records[i] = {**rec, **_prediction(role, gen.text)}
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        path = folder / f"{data.stem}-{role}-{stable_hash(text, 12)}.predictions.jsonl"
        if not path.is_file():  # content-addressed: an existing file holds exactly this text
            from lifecycle.config.yaml_io import atomic_write_text

            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, text)
        meta = {"model": described, "tool": {
            "role": role, "tool": "calculator" if role == "tool" else None, "template": PROMPTS[role],
            "answer": "the expression computed by the calculator" if role == "tool" else "the first number written",
            "predictions": str(path)}}
        opts = EvalOptions(shots=[0], predictions=path, limit=limit, argv=argv, extra_meta=meta,
                           role=role_of_model(described), generation=settings)
        scored = run_eval(view, opts).runs[0]
        runs[role] = scored.run
        accuracy[role] = float(scored.doc["metrics"]["exact_match"]["value"])
    cmp = compare_runs(project, [runs["direct"].id, runs["tool"].id],
                       CompareSettings(samples=samples, permutations=permutations), argv=argv)
    result = next(r for r in cmp.results[runs["tool"].id] if r.metric == "exact_match").as_dict()
    # the pairing is recorded once, in the compare run: the two eval runs are finished and never changed
    return ToolEvalResult(runs, accuracy, {**result, "compare_run": cmp.run.id if cmp.run else None})
