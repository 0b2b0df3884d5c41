"""`lifecycle eval export --to lm-eval|promptfoo`: the eval config in other tools' formats.

lm-eval (lm-evaluation-harness >= 0.4 task YAML): the eval set as a local `json` dataset, the
prompt as a Jinja `doc_to_text`, shots as `num_fewshot` with the same separator, generation
settings as `generation_kwargs`, and our metrics through `process_results` in a `utils.py` beside
the YAML (lm-eval's own rouge goes to the Hub; ours works offline and gives the same numbers).

promptfoo (`promptfooconfig.yaml`): the prompt with `{{field}}` variables, a Hugging Face provider
with the generation settings, and one test per eval example asserting the success metric against
its threshold with a Python assertion that calls our metric (plus promptfoo's own `rouge-n` /
`bleu` / `equals` where one applies, as a cross-check).
"""

from __future__ import annotations

import re
from pathlib import Path

from lifecycle.config.yaml_io import atomic_write_text, dump_yaml
from lifecycle.errors import EvaluationError, did_you_mean

FORMATS = ("lm-eval", "promptfoo")


def jinja_template(template: str, suffix: str = "") -> str:
    """Our `{field}` template as Jinja (`{{field}}`); literal text that looks like Jinja is kept raw."""
    from lifecycle.prompting.template import parse_template

    out = []
    for literal, name in parse_template(template):
        text = literal
        if re.search(r"\{[{%#]|[}%#]\}", text):
            text = "{% raw %}" + text + "{% endraw %}"
        out.append(text)
        if name is not None:
            out.append("{{" + name + "}}")
    if suffix:
        out.append("{% raw %}" + suffix + "{% endraw %}" if re.search(r"\{[{%#]|[}%#]\}", suffix) else suffix)
    return "".join(out)


def _task_name(project) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"lifecycle_{project.manifest.project.name}").lower()


def _check_out(paths: list[Path], force: bool) -> None:
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise EvaluationError(f"{existing[0]} exists; not overwriting it", hint="pass --force to replace the export")


_UTILS = '''"""process_results for the lm-eval task exported by `lifecycle eval export --to lm-eval`.

Scores each document with genai-lifecycle's offline metrics (the same numbers as `lifecycle eval run`)."""
from lifecycle.evaluation.registry import compute_metrics

METRICS = {metrics!r}
CORPUS = {corpus!r}
REFERENCE_FIELD = {ref!r}


def _refs(doc):
    r = doc[REFERENCE_FIELD]
    return [str(x) for x in r] if isinstance(r, (list, tuple)) else [str(r)]


def process_results(doc, results):
    prediction = results[0].strip()
    refs = _refs(doc)
    out = {{}}
    per_example = [m for m in METRICS if m not in CORPUS]
    if per_example:
        scores = compute_metrics([(m, METRICS[m]) for m in per_example], [prediction], [refs])
        out.update({{m: float(scores[m].value) for m in per_example}})
    for m in CORPUS:
        out[m] = (prediction, refs)  # aggregated over the corpus below
    return out


def _corpus(name, items):
    preds = [p for p, _ in items]
    refs = [r for _, r in items]
    return float(compute_metrics([(name, METRICS[name])], preds, refs)[name].value)


{corpus_funcs}
'''


def _lm_eval_files(project, out: Path) -> dict[Path, str]:
    from lifecycle.evaluation.registry import METRICS as INFO
    from lifecycle.evaluation.scoring import metric_requests

    cfg = project.eval_config()
    prompt = project.prompt_config()
    gen = project.generation_config().resolved()
    name = _task_name(project)
    # lm-eval needs a direction for every metric: descriptive ones (lengths) are left out
    requests = {m: a for m, a in metric_requests(cfg.metrics) if INFO[m].higher_is_better is not None}
    corpus = [m for m in requests if INFO[m].aggregation == "corpus"]
    data = project.path(cfg.dataset.path).resolve()
    metric_list = []
    for m in requests:
        entry = {"metric": m, "aggregation": f"!function utils.agg_{m}" if m in corpus else "mean",
                 "higher_is_better": INFO[m].higher_is_better}
        metric_list.append(entry)
    generation_kwargs = {"until": list(dict.fromkeys([*prompt.stop, *gen.stop])) or [prompt.separator],
                         "do_sample": bool(gen.do_sample), "max_gen_toks": gen.max_new_tokens}
    for k in ("temperature", "top_k", "top_p", "num_beams"):
        if getattr(gen, k, None) is not None and (gen.do_sample or k == "num_beams"):
            generation_kwargs[k] = getattr(gen, k)
    task = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test",
        "fewshot_split": "test",
        "output_type": "generate_until",
        "doc_to_text": jinja_template(prompt.template, prompt.answer_prefix),
        "doc_to_target": "{{" + cfg.dataset.reference_field + "}}",
        "target_delimiter": "",
        "fewshot_delimiter": prompt.separator,
        "num_fewshot": max(cfg.shots) if cfg.shots else 0,
        "generation_kwargs": generation_kwargs,
        "process_results": "!function utils.process_results",
        "metric_list": metric_list,
        "metadata": {"version": 1.0, "exported_by": "lifecycle eval export --to lm-eval",
                     "shots_ladder": list(cfg.shots)},
    }
    text = ("# Exported by `lifecycle eval export --to lm-eval` from configs/eval.yaml.\n"
            f"# Run: lm_eval --model hf --model_args pretrained=MODEL --include_path {out} --tasks {name}\n"
            "# (set --num_fewshot K for the other rungs of the shots ladder)\n" + dump_yaml(task))
    # `!function` is a YAML tag lm-eval resolves; dump_yaml quotes it, so unquote those values
    text = re.sub(r"'(!function [A-Za-z0-9_.]+)'", r"\1", text)
    funcs = "\n\n".join(f"def agg_{m}(items):\n    return _corpus({m!r}, items)" for m in corpus)
    utils = _UTILS.format(metrics=requests, corpus=corpus, ref=cfg.dataset.reference_field, corpus_funcs=funcs)
    return {out / f"{name}.yaml": text, out / "utils.py": utils}


_ASSERT = '''"""promptfoo Python assertion exported by `lifecycle eval export --to promptfoo`:
scores the output with genai-lifecycle's offline metric (same numbers as `lifecycle eval run`)."""
from lifecycle.evaluation.registry import compute_metrics

METRIC = {metric!r}
ARGS = {args!r}
THRESHOLD = {threshold!r}
HIGHER_IS_BETTER = {hib!r}


def get_assert(output, context):
    refs = context["vars"]["references"]
    score = float(compute_metrics([(METRIC, ARGS)], [output.strip()], [refs])[METRIC].value)
    ok = score >= THRESHOLD if HIGHER_IS_BETTER else score <= THRESHOLD
    return {{"pass": ok, "score": score, "reason": f"{{METRIC}} = {{score:.4f}} (threshold {{THRESHOLD}})"}}
'''


def _cross_check(metric: str, reference: str, threshold: float) -> dict | None:
    if metric.startswith("rouge"):
        return {"type": "rouge-n", "value": reference, "threshold": threshold}
    if metric == "sacrebleu":
        return {"type": "bleu", "value": reference, "threshold": threshold / 100.0}
    if metric in ("exact_match", "accuracy"):
        return {"type": "icontains" if metric == "accuracy" else "equals", "value": reference}
    return None


def _promptfoo_files(project, out: Path) -> dict[Path, str]:
    from lifecycle.evaluation.evalset import project_eval_set
    from lifecycle.evaluation.scoring import metric_requests

    cfg = project.eval_config()
    prompt = project.prompt_config()
    gen = project.generation_config().resolved()
    model = project.model_config()
    success = project.manifest.scope.success
    requests = dict(metric_requests(cfg.metrics))
    evalset = project_eval_set(project, cfg)
    fields = cfg.dataset.input_fields
    provider_config = {"max_new_tokens": gen.max_new_tokens, "do_sample": bool(gen.do_sample)}
    for k in ("temperature", "top_k", "top_p"):
        if gen.do_sample and getattr(gen, k) is not None:
            provider_config[k] = getattr(gen, k)
    tests = []
    for ex in evalset.examples:
        refs = evalset.references[str(ex[cfg.dataset.id_field])]
        asserts = [{"type": "python", "value": "file://lifecycle_assert.py", "metric": success.metric}]
        cross = _cross_check(success.metric, refs[0], success.target)
        if cross:
            asserts.append(cross)
        tests.append({"description": str(ex[cfg.dataset.id_field]),
                      "vars": {**{f: ex[f] for f in fields}, "references": refs}, "assert": asserts})
    doc = {
        "description": f"{project.manifest.scope.use_case} (exported by lifecycle eval export --to promptfoo)",
        "prompts": [jinja_template(prompt.template, prompt.answer_prefix)],
        "providers": [{"id": f"huggingface:text-generation:{model.model}", "label": model.model,
                       "config": provider_config}],
        "tests": tests,
    }
    text = ("# yaml-language-server: $schema=https://promptfoo.dev/config-schema.json\n"
            "# Exported by `lifecycle eval export --to promptfoo` from configs/eval.yaml (zero-shot prompt).\n"
            f"# Run: npx promptfoo@latest eval -c {out / 'promptfooconfig.yaml'}\n" + dump_yaml(doc))
    if success.metric not in requests:
        requests[success.metric] = {}
    assert_py = _ASSERT.format(metric=success.metric, args=requests[success.metric], threshold=success.target,
                               hib=success.higher_is_better)
    return {out / "promptfooconfig.yaml": text, out / "lifecycle_assert.py": assert_py}


def export(project, fmt: str, *, out: str | Path | None = None, force: bool = False) -> list[Path]:
    if fmt not in FORMATS:
        raise EvaluationError(did_you_mean(fmt, FORMATS, kind="export format"))
    folder = Path(out) if out else project.root / "exports" / fmt
    folder = folder if folder.is_absolute() else Path.cwd() / folder
    files = _lm_eval_files(project, folder) if fmt == "lm-eval" else _promptfoo_files(project, folder)
    _check_out(list(files), force)
    for path, text in files.items():
        atomic_write_text(path, text)
    return list(files)
