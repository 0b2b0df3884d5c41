"""PAL-style tool use: the model answers with an arithmetic expression, the calculator computes the
answer. Also the generated arithmetic eval set and its accuracy with and without the tool."""

from __future__ import annotations

import random
import re
from typing import Sequence

from lifecycle.evaluation.scorers import Scores, mean_scores
from lifecycle.tools.calculator import CalculatorError, evaluate, format_number

# An explicit "Expression: ..." line wins; otherwise the longest run of arithmetic characters.
_LABELLED = re.compile(r"(?:expression|calc(?:ulate)?)\s*[:=]\s*([0-9\s.+\-*/%()^]+)", re.IGNORECASE)
_SPAN = re.compile(r"[0-9(][0-9\s.+\-*/%()^]*")
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")

DIRECT_TEMPLATE = "Answer with a number only.\n\nQuestion: {question}\n\nAnswer:"
TOOL_TEMPLATE = ("Write an arithmetic expression that computes the answer; a calculator will evaluate it.\n\n"
                 "Question: {question}\n\nExpression:")


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


_OPS = [("+", "plus"), ("-", "minus"), ("*", "times")]  # precedence as in Python: the question shows symbols


def arithmetic_set(n: int = 50, *, seed: int = 0) -> list[dict]:
    """Word problems over 2-3 multi-digit operands with their expression and exact answer."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        terms = rng.randint(2, 3)
        nums = [rng.randint(12, 999) for _ in range(terms)]
        ops = [rng.choice(_OPS) for _ in range(terms - 1)]
        expr = str(nums[0])
        for (sym, _), x in zip(ops, nums[1:]):
            expr += f" {sym} {x}"
        out.append({"id": f"arith-{i:03d}", "question": f"What is {expr}?", "expression": expr,
                    "answer": format_number(evaluate(expr))})
    return out


def run_tool_eval(project, data: list[dict], *, samples: int = 1000, permutations: int = 2000,
                  argv: list[str] | None = None) -> dict:
    """Direct answers vs expressions computed by the calculator, on the same questions, with the
    project's model: two runs (kind tool_eval) and a paired comparison of accuracy."""
    import json

    from lifecycle.config.prompt import PromptConfig
    from lifecycle.config.yaml_io import atomic_write_text
    from lifecycle.evaluation.stats import bootstrap_ci, compare_scores
    from lifecycle.generation.engine import Engine
    from lifecycle.generation.runner import prediction_record
    from lifecycle.prompting import build_prompts
    from lifecycle.rag.evaluate import _model, _settings
    from lifecycle.runs.store import RunStore

    model_cfg, loaded = _model(project)
    settings = _settings(project)
    engine = Engine(loaded, settings)
    store = RunStore(project.runs_dir)
    refs = [d["answer"] for d in data]
    scores, ids = {}, {}
    for role, template in (("direct", DIRECT_TEMPLATE), ("tool", TOOL_TEMPLATE)):
        pc = PromptConfig(template=template, target_field="answer")
        prompts = build_prompts(data, pc, loaded.tokenizer, k=0, context_window=loaded.context_window,
                                reserve_tokens=settings.max_new_tokens, encoder_decoder=loaded.encoder_decoder)
        config = {"role": role, "template": template, "generation": settings.resolved().model_dump(mode="json"),
                  "model": model_cfg.model_dump(mode="json")}
        with store.new_run("tool_eval", config=config, model=loaded.describe(), dataset={"examples": len(data)},
                           seed=settings.seed, extra={"role": role, "tool": "calculator" if role == "tool" else None},
                           argv=argv) as run:
            answers: list[str | None] = [None] * len(prompts)
            with run.prediction_writer() as writer:
                for i, gen in engine.iter_generate(prompts):
                    rec = prediction_record(prompts[i], gen, str(data[i]["id"]))
                    if role == "tool":
                        answers[i], err = tool_answer(gen.text)
                        rec.update(expression=extract_expression(gen.text), tool_error=err)
                    else:
                        answers[i] = direct_answer(gen.text)
                    rec.update(answer=answers[i], correct=same_number(answers[i], refs[i]))
                    writer.write(rec)
            s = accuracy(answers, refs)
            lo, hi = bootstrap_ci(s, samples=samples)
            doc = {"n": len(data), "metrics": {"accuracy": {"value": s.value, "ci": [lo, hi], "n": len(data),
                                                            "higher_is_better": True, "aggregation": "mean"}}}
            if role == "tool":
                cmp = compare_scores("accuracy", scores["direct"], s, higher_is_better=True, samples=samples,
                                     permutations=permutations).as_dict()
                doc["comparison"] = {"baseline_run": ids["direct"], **cmp}
                atomic_write_text(run.path / "comparison.json", json.dumps(doc["comparison"], indent=2) + "\n")
            run.write_metrics(doc)
        scores[role], ids[role] = s, run.id
    return {"runs": ids, "direct": scores["direct"].value, "tool": scores["tool"].value, "comparison": cmp}
