"""`lifecycle eval export --to lm-eval|promptfoo`: the eval config in other tools' formats, made so
that the other tool reproduces `lifecycle eval run` (tests run the real lm-eval and compare).

lm-eval (lm-evaluation-harness >= 0.4 task YAML):
- `utils.py` is standalone_metrics.py with its CONFIG filled: our metrics through rouge_score/sacrebleu
  only, so lm-eval runs where genai-lifecycle is not installed; the data is read from paths
  relative to utils.py (`custom_dataset`), so the folder can be moved with the project.
- shots: `fewshot_config: {sampler: first_n}` over the shot pool, which is what `selection: first`
  (and `fixed`) draw; `num_fewshot` is the largest K of the ladder whose prompts all fit our token
  budget with K shots and no cut, because lm-eval cuts over-long prompts from the left (losing the
  instruction) where we cut the input field or drop shots.
- seq2seq models: lm-eval lets the decoder run to `prompt length + max_gen_toks` tokens; the task sets
  `max_length: max_new_tokens + 1` (the decoder start token counts) to stop where we stop.

promptfoo (`promptfooconfig.yaml`): a local python provider (`lifecycle_provider.py`) that builds our
prompt for the example and generates with our engine (offline; promptfoo runs it with
PROMPTFOO_PYTHON, which must be a Python with genai-lifecycle), and one test per example asserting
only our success metric (`lifecycle_assert.py`, self-contained like utils.py).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lifecycle.config.yaml_io import atomic_write_text, dump_yaml
from lifecycle.data import load_examples
from lifecycle.errors import EvaluationError, LifecycleError, did_you_mean
from lifecycle.evaluation.evalset import project_eval_set
from lifecycle.evaluation.metrics.registry import METRICS as INFO, metric_requests
from lifecycle.evaluation.runner import _prompt_dict, declared_labels, with_labels
from lifecycle.generation import Engine
from lifecycle.loading import load_model_from_config
from lifecycle.project import Project
from lifecycle.prompt_template import parse_template
from lifecycle.prompting.chat import uses_chat_template
from lifecycle.prompting.project_inputs import load_prompt_config, load_prompt_inputs

FORMATS = ("lm-eval", "promptfoo")


def jinja_template(template: str, suffix: str = "") -> str:
    """Our `{field}` template as Jinja (`{{field}}`); literal text that looks like Jinja is kept raw."""
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


# What the generation settings pass to `model.generate` beyond the length (lm-eval forwards them).
_GEN_KWARGS = ("min_new_tokens", "do_sample", "temperature", "top_k", "top_p", "num_beams", "length_penalty",
               "early_stopping", "repetition_penalty", "no_repeat_ngram_size")
_METRICS_SOURCE = Path(__file__).with_name("standalone_metrics.py")
_CONFIG_BLOCK = re.compile(r"# --- CONFIG .*?# --- END CONFIG ---\n", re.S)


@dataclass
class BudgetFit:
    """Which K of the ladder another tool can run as we do: every prompt with K shots and no cut."""
    k: int
    rows: dict[int, str]        # K -> "20 of 20 prompts fit with 3 shots" or why not
    notes: list[str]
    window: int | None = None
    encoder_decoder: bool = True
    chat: bool = False


def budget_fit(project, ladder: list[int]) -> BudgetFit:
    """Measure our prompts (the project's tokenizer, budget policy and shot pool) for each K of the
    ladder; lm-eval gets the largest K whose prompts all fit whole, since it cuts from the left."""
    cfg = project.eval_config()
    ladder = sorted(set(ladder or [0]))
    try:
        inputs = load_prompt_inputs(project, data=project.path(cfg.dataset.path), limit=cfg.dataset.limit)
    except (LifecycleError, OSError, ValueError) as err:
        k = 0 if 0 in ladder else ladder[0]
        why = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return BudgetFit(k, {}, [f"the model's tokenizer could not be loaded ({why}); the token budget was not "
                                 f"measured, so num_fewshot is {k}: re-export where the model loads"])
    rows, whole = {}, []
    for k in ladder:
        try:
            prompts = inputs.build(k)  # the call `lifecycle eval run` makes
        except LifecycleError as err:
            rows[k] = f"refused: {str(err).splitlines()[0]}"
            continue
        fit = sum(p.shots_used == k and not p.truncated for p in prompts)
        rows[k] = f"{fit} of {len(prompts)} prompts fit {inputs.limit} tokens with {k} shots and no cut"
        if fit == len(prompts):
            whole.append(k)
    notes = []
    if whole:
        k = whole[-1]
        if k != ladder[-1]:
            notes.append(f"num_fewshot is {k}, not {ladder[-1]}: with more shots some prompts do not fit; lifecycle "
                         "cuts the input or drops shots there, lm-eval would cut the prompt from the left")
    else:
        k = ladder[0]
        notes.append(f"no K of the ladder fits every prompt whole; num_fewshot is {k} and lm-eval will cut the "
                     "over-long prompts from the left where lifecycle cuts the input field: those examples differ")
    chat = uses_chat_template(inputs.cfg, inputs.tokenizer)
    if chat:
        notes.append("the prompt uses the model's chat template: run lm-eval with --apply_chat_template "
                     "--fewshot_as_multiturn (not verified to give our prompts)")
    return BudgetFit(k, rows, notes, inputs.context_window, inputs.encoder_decoder, chat)


def _metrics_module(config: dict, doc: str) -> str:
    """standalone_metrics.py with its CONFIG block filled: a file that never imports lifecycle."""
    source = _METRICS_SOURCE.read_text(encoding="utf-8")
    block = "# --- CONFIG (written by `lifecycle eval export`) ---\n" + "".join(
        f"{k} = {v!r}\n" for k, v in config.items()) + "# --- END CONFIG ---\n"
    source = _CONFIG_BLOCK.sub(lambda _: block, source, count=1)
    return f'"""{doc}"""\n' + source.split('"""', 2)[2].lstrip("\n")


def _exported_metrics(project, cfg) -> tuple[dict[str, dict], list[str]]:
    """(metric -> args) for the metrics with a direction, label sets filled in, and the corpus ones."""
    # the project's own `function:` metrics need its src/ package, which a self-contained export
    # does not carry: they are left out (the export header lists what it scores)
    builtin = [m for m in cfg.metrics if not getattr(m, "function", None)]
    requests = with_labels(metric_requests(builtin), declared_labels(project, _prompt_dict(project)))
    out = {}
    for name, args in requests:
        if INFO[name].higher_is_better is None:  # lm-eval needs a direction; lengths are descriptive
            continue
        args = {k: list(v) if isinstance(v, tuple) else v for k, v in args.items()}
        if name == "off_label_rate" and not args.get("labels"):
            # undeclared labels are the corpus's references: an example alone cannot know them
            evalset = project_eval_set(project, cfg)
            args["labels"] = sorted({r for refs in evalset.references.values() for r in refs})
        out[name] = args
    return out, [m for m in out if INFO[m].aggregation == "corpus"]


def _rel(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()


def _data_file(project, path: str, cfg, out: Path, split: str, files: dict[Path, str], fields: dict | None) -> str:
    """A data path relative to utils.py: the project's JSONL file itself, or (CSV, parquet, a
    save_to_disk folder, a hub id, a column mapping) a JSONL copy in data/ of the export, as
    lifecycle loads it."""
    src = project.path(path)
    if src.is_file() and src.suffix.lower() in (".jsonl", ".ndjson") and not fields:
        return _rel(src, out)

    rows = load_examples(src if src.exists() else path, id_field=cfg.dataset.id_field, fields=fields)
    target = out / "data" / f"{split}.jsonl"
    files[target] = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    return _rel(target, out)


def _lm_eval_notes(prompt, fit) -> list[str]:
    """Where lm-eval's prompts will differ from ours, said in the task file."""
    shots, notes = prompt.shots, []
    if getattr(prompt, "preprocess", None):
        notes.append(f"configs/prompt.yaml preprocess ({prompt.preprocess}) is not applied by lm-eval: its prompts "
                     "are built from the data as stored")
    if shots.selection == "random" and fit.k > 0:
        notes.append("shots.selection is random: lifecycle draws per example (seeded by id), lm-eval's sampler "
                     "draws others, so K>0 prompts differ; use selection: first or fixed to match")
    if shots.selection == "fixed" or shots.pool:
        notes.append("the shots come from a separate split: lm-eval does not skip a query that is itself a shot "
                     "(lifecycle takes the next one)")
    return notes


def _lm_eval_generation_kwargs(prompt, gen, fit) -> dict:
    kwargs = {"until": list(dict.fromkeys([*prompt.stop, *gen.stop])), "max_gen_toks": gen.max_new_tokens}
    for k in _GEN_KWARGS:
        value = getattr(gen, k, None)
        if k == "do_sample":
            value = bool(value)
        if value is not None:
            kwargs[k] = value
    if fit.encoder_decoder:
        # lm-eval passes max_length = prompt + max_gen_toks to generate(); for an encoder-decoder that
        # is the decoder's length, so it would run far past our max_new_tokens
        kwargs["max_length"] = gen.max_new_tokens + 1
    return kwargs


def _lm_eval_command(project, out: Path, name: str, fit) -> str:
    model = project.model_config()
    ref = model.model if not project.path(model.model).is_dir() else _rel(project.path(model.model), project.root)
    margs = f"pretrained={ref}" + (f",revision={model.revision}" if model.revision else "") + \
        (f",max_length={fit.window}" if fit.window else "")
    return (f"lm_eval --model hf --model_args {margs} --include_path {_rel(out, project.root)} --tasks {name} "
            f"--device cpu --batch_size 1" + (" --apply_chat_template --fewshot_as_multiturn" if fit.chat else ""))


def _lm_eval_files(project, out: Path) -> dict[Path, str]:
    cfg = project.eval_config()
    prompt = load_prompt_config(project)
    gen = project.generation_config().resolved()
    name = _task_name(project)
    metrics, corpus = _exported_metrics(project, cfg)
    fit = budget_fit(project, list(cfg.shots))
    shots = prompt.shots
    notes = [*fit.notes, *_lm_eval_notes(prompt, fit)]
    files: dict[Path, str] = {}
    mapping = dict(getattr(prompt, "fields", None) or {}) or None
    data = {"test": _data_file(project, cfg.dataset.path, cfg, out, "test", files, mapping)}
    if shots.pool:
        data["shots"] = _data_file(project, shots.pool, cfg, out, "shots", files, mapping)
    elif shots.selection == "fixed":
        data["shots"] = data["test"]
    metric_list = [{"metric": m, "aggregation": f"!function utils.agg_{m}" if m in corpus else "mean",
                    "higher_is_better": m != "off_label_rate"} for m in metrics]
    task = {
        "task": name,
        "custom_dataset": "!function utils.load_docs",
        "test_split": "test",
        "fewshot_split": "shots" if "shots" in data else "test",
        "fewshot_config": {"sampler": "first_n" if shots.selection != "random" else "default"},
        "output_type": "generate_until",
        "doc_to_text": jinja_template(prompt.template, prompt.answer_prefix),
        "doc_to_target": "{{" + prompt.target_field + "}}",
        "target_delimiter": "",
        "fewshot_delimiter": prompt.separator,
        "num_fewshot": fit.k,
        "generation_kwargs": _lm_eval_generation_kwargs(prompt, gen, fit),
        "process_results": "!function utils.process_results",
        "metric_list": metric_list,
        "metadata": {"version": 1.0, "exported_by": "lifecycle eval export --to lm-eval",
                     "shots_ladder": list(cfg.shots), "budget": {str(k): v for k, v in fit.rows.items()}},
    }
    if fit.k == 0:
        # lm-eval ignores --num_fewshot for a task whose YAML says 0; left out, it defaults to 0 and
        # the other rungs of the ladder stay one flag away
        del task["num_fewshot"]
    command = _lm_eval_command(project, out, name, fit)
    head = ["Exported by `lifecycle eval export --to lm-eval` from configs/eval.yaml and configs/prompt.yaml.",
            f"Run from the project root: {command}",
            "utils.py needs only rouge_score and sacrebleu (not genai-lifecycle); data paths are relative to it.",
            f"Shots: {fit.k} (the largest K of the ladder whose prompts all fit whole); another rung: --num_fewshot K "
            "(lm-eval cuts a prompt that does not fit from the left, where lifecycle cuts the input or drops shots).",
            "Token budget per K: " + "; ".join(f"K={k}: {v}" for k, v in fit.rows.items()) if fit.rows else
            "Token budget: not measured.",
            *notes]
    text = "".join(f"# {line}\n" for line in head) + dump_yaml(task)
    # `!function` is a YAML tag lm-eval resolves; dump_yaml quotes it, so unquote those values
    text = re.sub(r"'(!function [A-Za-z0-9_.]+)'", r"\1", text)
    config = {"METRICS": metrics, "CORPUS": corpus, "REFERENCE_FIELD": cfg.dataset.reference_field,
              "ID_FIELD": cfg.dataset.id_field, "DATA": data, "LIMIT": cfg.dataset.limit,
              "SHOT_IDS": list(shots.ids) if shots.selection == "fixed" else None, "SUCCESS": None}
    utils = _metrics_module(config, f"lm-eval task {name}: data loading and scoring, exported by `lifecycle eval "
                                    "export --to lm-eval`.\n\nThe same numbers as `lifecycle eval run`, computed with "
                                    "rouge_score / sacrebleu only.")
    readme = "\n".join([f"# lm-eval task `{name}`", "", *[f"- {line}" for line in head], ""])
    return {**files, out / f"{name}.yaml": text, out / "utils.py": utils, out / "README.md": readme}


class PromptfooSession:
    """What the exported promptfoo provider calls: our prompt for the example (shots, token budget,
    cuts: exactly `lifecycle eval run`'s) generated by our engine, loaded once per process."""

    def __init__(self, root: str | Path, shots: int = 0) -> None:
        project = Project(root)
        cfg = project.eval_config()
        inputs = load_prompt_inputs(project, data=project.path(cfg.dataset.path), limit=cfg.dataset.limit)
        prompts = inputs.build(shots)  # the call `lifecycle eval run` makes
        self.id_field = inputs.cfg.id_field
        self.prompts = {p.id: p for p in prompts}
        model_cfg = project.model_config().model_copy(update={"model": inputs.model_ref})
        self.engine = Engine(load_model_from_config(model_cfg), project.generation_config(), stop=inputs.cfg.stop)

    def call(self, prompt: str, variables: dict) -> dict:
        """promptfoo's provider response for one test (`output`, `tokenUsage`, `metadata`)."""
        rendered = self.prompts.get(str(variables.get(self.id_field)))
        gen = self.engine.generate([rendered if rendered is not None else prompt])[0]
        meta = {"stopped_by": gen.stopped_by}
        if rendered is not None:
            meta.update(example_id=rendered.id, shots_used=rendered.shots_used,
                        truncated_tokens=rendered.truncated_tokens, prompt_as_promptfoo_shows=rendered.text == prompt)
        else:
            meta["note"] = "not an eval-set example: promptfoo's prompt was sent as is"
        return {"output": gen.text, "tokenUsage": {"prompt": gen.tokens_in, "completion": gen.tokens_out,
                                                   "total": gen.tokens_in + gen.tokens_out}, "metadata": meta}


_PROVIDER = '''"""promptfoo provider exported by `lifecycle eval export --to promptfoo`: generates with
genai-lifecycle's engine and the project's configs, offline (no hosted API, no token).

promptfoo runs it with the Python named by PROMPTFOO_PYTHON, which must have genai-lifecycle (and
the project's model dependencies) installed, e.g. PROMPTFOO_PYTHON=.venv/bin/python."""
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / {root!r}
SHOTS = {shots!r}
_SESSION = []


def call_api(prompt, options, context):
    if not _SESSION:
        from lifecycle.evaluation.export.harness import PromptfooSession

        _SESSION.append(PromptfooSession(PROJECT, SHOTS))
    return _SESSION[0].call(prompt, (context or {{}}).get("vars") or {{}})
'''

PROMPTFOO_VERSION = "0.123.1"  # the version the export was run with; it needs Node >= 22.22


def _promptfoo_files(project, out: Path) -> dict[Path, str]:
    cfg = project.eval_config()
    prompt = load_prompt_config(project)
    success = project.manifest.scope.success
    metrics, corpus = _exported_metrics(project, cfg)
    if success.metric not in metrics:
        metrics[success.metric] = {}
    evalset = project_eval_set(project, cfg)
    fields = cfg.dataset.input_fields
    id_field = prompt.id_field
    tests = []
    for ex in evalset.examples:
        ex_id = str(ex[cfg.dataset.id_field])
        tests.append({"description": ex_id,
                      "vars": {**{f: ex[f] for f in fields}, id_field: ex_id, "references": evalset.references[ex_id]},
                      "assert": [{"type": "python", "value": "file://lifecycle_assert.py", "metric": success.metric}]})
    model = project.model_config()
    doc = {
        "description": f"{project.manifest.scope.use_case} (exported by lifecycle eval export --to promptfoo)",
        "prompts": [jinja_template(prompt.template, prompt.answer_prefix)],
        "providers": [{"id": "file://lifecycle_provider.py", "label": f"{model.model} (lifecycle engine)"}],
        "tests": tests,
    }
    run = (f"PROMPTFOO_PYTHON=.venv/bin/python npx promptfoo@{PROMPTFOO_VERSION} eval "
           f"-c {_rel(out, project.root)}/promptfooconfig.yaml --no-cache")
    head = ["Exported by `lifecycle eval export --to promptfoo` from configs/eval.yaml (zero-shot prompts).",
            f"Run from the project root (Node >= 22.22; offline): {run}",
            "PROMPTFOO_PYTHON must be a Python with genai-lifecycle installed: the provider (lifecycle_provider.py)",
            "generates with lifecycle's engine and the project's model; the assertion is our success metric",
            f"({success.metric}, target {success.target}) per example, in lifecycle_assert.py (rouge_score/sacrebleu only)."]
    if success.metric in corpus:
        head.append(f"{success.metric} is a corpus metric: each test scores its example alone, so the mean of the "
                    "tests is not the run's value")
    text = ("# yaml-language-server: $schema=https://promptfoo.dev/config-schema.json\n"
            + "".join(f"# {line}\n" for line in head) + dump_yaml(doc))
    config = {"METRICS": metrics, "CORPUS": corpus, "REFERENCE_FIELD": cfg.dataset.reference_field,
              "ID_FIELD": id_field, "DATA": {}, "LIMIT": None, "SHOT_IDS": None,
              "SUCCESS": {"metric": success.metric, "target": success.target,
                          "higher_is_better": success.higher_is_better}}
    assert_py = _metrics_module(config, "promptfoo python assertion exported by `lifecycle eval export --to "
                                        "promptfoo`:\nour success metric, computed with rouge_score / sacrebleu only.")
    provider = _PROVIDER.format(root=_rel(project.root, out), shots=0)
    readme = "\n".join(["# promptfoo export", "", *[f"- {line}" for line in head], ""])
    return {out / "promptfooconfig.yaml": text, out / "lifecycle_provider.py": provider,
            out / "lifecycle_assert.py": assert_py, out / "README.md": readme}

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
