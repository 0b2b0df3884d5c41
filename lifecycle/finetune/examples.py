"""Training examples: the project's own prompt for each record, tokenized and length-checked.

Encoder-decoder: input_ids = prompt, labels = target (+ </s> from the tokenizer).
Decoder-only: input_ids = prompt + target + eos, labels = -100 over the prompt tokens, so the
loss is computed on the answer only, exactly the text the model will be asked to produce."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import DataError, FinetuneError, located

IGNORE_INDEX = -100


def _plain(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k != "__line__"}


@dataclass
class LengthLimits:
    source: int  # tokens of prompt the model accepts (decoder-only: prompt + target)
    target: int


def limits_for(context: int, encoder_decoder: bool, data_cfg) -> LengthLimits:
    if data_cfg.max_source_tokens and data_cfg.max_source_tokens > context:
        raise FinetuneError(f"configs/finetune.yaml: data.max_source_tokens: {data_cfg.max_source_tokens} is more than "
                            f"the model's context window ({context})")
    if data_cfg.max_target_tokens and data_cfg.max_target_tokens > context:
        raise FinetuneError(f"configs/finetune.yaml: data.max_target_tokens: {data_cfg.max_target_tokens} is more than "
                            f"the model's context window ({context})")
    return LengthLimits(source=data_cfg.max_source_tokens or context, target=data_cfg.max_target_tokens or context)


def load_records(path: Path, prompt_cfg, data_cfg, *, min_examples: int, role: str = "train") -> list[dict]:
    """Records with their file line number under `__line__` (for error messages; not a prompt field)."""
    from lifecycle.data import DataNotFound, load_examples, resolve_source
    from lifecycle.config.prompt import resolve_prompt_config
    from lifecycle.prompt_template import template_fields

    cfg = resolve_prompt_config(prompt_cfg)
    required = data_cfg.fields or sorted(set(template_fields(cfg.template)) | {cfg.target_field})
    try:
        resolve_source(path)
    except DataNotFound:
        raise DataError(f"configs/finetune.yaml: data.{role}: '{path}' does not exist",
                        hint="point data.train at a data file (JSONL, CSV, parquet, a save_to_disk folder)") from None
    records = load_examples(path, required=required, id_field=cfg.id_field, allow_empty=True,
                            text_fields=required, line_field="__line__",  # a label is text too: never str() of a list
                            fields=dict(cfg.fields or {}) or None)
    if not records:
        raise DataError(f"{path}: the {role} set is empty; fine-tuning needs examples",
                        hint="add JSONL lines with the fields " + ", ".join(required))
    if len(records) < min_examples:
        raise DataError(f"{path}: the {role} set has {len(records)} example(s); at least {min_examples} are needed "
                        "(one optimizer step = batch_size x gradient_accumulation_steps, or training.min_train_examples)",
                        hint="add examples, or lower training.batch_size / gradient_accumulation_steps")
    return records


def _line_of(record: dict, index: int) -> int:
    return int(record.get("__line__", index + 1))


def tokenize_examples(records: list[dict], tokenizer, prompt_cfg, limits: LengthLimits, *, encoder_decoder: bool,
                      path: Path, truncate_target: bool) -> list[dict]:
    """Features for the collator. The prompt is built by the prompting package with K=0 (the tuned
    model is asked without shots), chat template and budget policy included, so training sees the
    exact inference prompt; a target too long for the model is an error naming file:line."""
    from lifecycle.config.prompt import resolve_prompt_config
    from lifecycle.prompting import format_target
    from lifecycle.prompting.project_inputs import PromptInputs

    cfg = resolve_prompt_config(prompt_cfg)
    plain = [_plain(r) for r in records]
    eos = [] if encoder_decoder else [tokenizer.eos_token_id]
    targets = []
    for i, (rec, ex) in enumerate(zip(records, plain)):
        kw = {"text_target": format_target(ex, cfg)} if encoder_decoder else {"text": format_target(ex, cfg)}
        ids = tokenizer(**kw, add_special_tokens=encoder_decoder)["input_ids"] + eos
        targets.append(_fit(ids, limits.target, truncate_target, path, i, rec, cfg.target_field,
                            "data.max_target_tokens"))
    # Decoder-only: prompt and answer share the window, so the longest answer is reserved.
    reserve = 0 if encoder_decoder else max(len(t) for t in targets)
    if not encoder_decoder and reserve >= limits.source:
        i = max(range(len(targets)), key=lambda j: len(targets[j]))
        raise DataError(located(path, _line_of(records[i], i), cfg.target_field,
                                f"labels are {reserve} tokens; with a prompt they cannot fit the model's "
                                f"{limits.source}-token context"),
                        hint="set data.max_target_tokens in configs/finetune.yaml to cut long answers")
    prompts = PromptInputs.of(cfg, plain, tokenizer, context_window=limits.source, encoder_decoder=encoder_decoder,
                              reserve_tokens=reserve, data_path=path).build(0)
    features = []
    for p, tgt in zip(prompts, targets):
        src = tokenizer(p.text, **p.encode_kwargs)["input_ids"]
        if encoder_decoder:
            features.append({"input_ids": src, "attention_mask": [1] * len(src), "labels": tgt})
        else:
            ids = src + tgt
            features.append({"input_ids": ids, "attention_mask": [1] * len(ids),
                             "labels": [IGNORE_INDEX] * len(src) + tgt})
    return features


def _fit(ids: list[int], limit: int, truncate: bool, path: Path, i: int, rec: dict, field: str, knob: str) -> list[int]:
    if len(ids) <= limit:
        return ids
    if truncate:
        return ids[:limit]
    what = "labels" if field != "prompt" else "the prompt"
    raise DataError(located(path, _line_of(rec, i), field,
                            f"{what} are {len(ids)} tokens but the model accepts {limit}"),
                    hint=f"shorten the example, or set {knob} in configs/finetune.yaml to truncate")
