"""Examples -> prompts: template, shots, chat template, and the token budget policy.

Budget policies (configs/prompt.yaml `budget.policy`), with `limit` = context window, minus
`reserve_tokens` (max_new_tokens) for decoder-only models:
  auto      one path that always has a way forward: keep the K shots and cut the input field
            (budget.truncate_field, default the longest) to make room, as long as at least
            `budget.keep_input` of its tokens survive; otherwise drop the last shot and try again;
            with no shot left, cut the input as far as needed. Only a template that does not fit
            even with a one-token input is refused. Records shots_used and truncated_tokens.
  truncate  keep the K shots and cut the input field (from budget.truncate_side) by tokens; refused
            when the shots alone fill the budget (use `auto`, which drops shots then).
  error     refuse any prompt that does not fit with the K shots asked for.
Every refusal lists all the examples that do not fit, not only the first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.config.prompt import PromptConfig
from lifecycle.errors import PromptError
from lifecycle.prompting.chat import chat_messages, render_chat, uses_chat_template
from lifecycle.config.prompt import resolve_prompt_config
from lifecycle.prompting.rendered import RenderedPrompt, _ids
from lifecycle.prompting.shots import ShotPool
from lifecycle.prompt_template import is_blank, render_template, template_fields, value_text


def _resolved(cfg: PromptConfig) -> PromptConfig:
    return resolve_prompt_config(cfg) if cfg.template is None or cfg.target_field is None else cfg


def format_example(example: dict, cfg: PromptConfig) -> str:
    """One query prompt without shots: the template filled from the example, then the answer prefix."""
    cfg = _resolved(cfg)
    check_examples([example], cfg, need_target=False)
    return render_template(cfg.template, example) + cfg.answer_prefix


def format_target(example: dict, cfg: PromptConfig) -> str:
    """The answer as a shot (or a fine-tuning label) shows it."""
    cfg = _resolved(cfg)
    check_examples([example], cfg, need_target=True, fields=[])
    return value_text(example[cfg.target_field])


def check_examples(examples: list[dict], cfg: PromptConfig, *, need_target: bool, role: str = "example",
                   fields: list[str] | None = None) -> None:
    """Every template field (and the target when needed) present and non-empty, or one clear error."""
    fields = template_fields(cfg.template) if fields is None else fields
    wanted = fields + ([cfg.target_field] if need_target else [])
    for ex in examples:
        ex_id = ex.get(cfg.id_field, "?")
        for name in wanted:
            if name not in ex:
                what = "target_field" if name == cfg.target_field and name not in fields else "prompt template field"
                raise PromptError(
                    f"{what} '{name}' is not in {role} '{ex_id}'; available fields: {', '.join(sorted(ex))}",
                    hint="fix configs/prompt.yaml (template / target_field) or the data")
            if is_blank(ex[name]):
                raise PromptError(f"{role} '{ex_id}': field '{name}' is empty",
                                  hint="fill it or remove the example from the data")


@dataclass
class _Renderer:
    cfg: PromptConfig
    tokenizer: Any
    chat: bool

    def text(self, example: dict, shots: list[dict]) -> str:
        cfg = self.cfg
        query = render_template(cfg.template, example) + cfg.answer_prefix
        pairs = [(render_template(cfg.template, s) + cfg.answer_prefix, value_text(s[cfg.target_field])) for s in shots]
        if self.chat:
            return render_chat(self.tokenizer, chat_messages(query, pairs, cfg.system))
        return cfg.separator.join([q + a for q, a in pairs] + [query])

    def count(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        enc = self.tokenizer(texts, add_special_tokens=not self.chat, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]


def _setup(examples, cfg, tokenizer, k, pool):
    cfg = _resolved(cfg)
    if not examples:
        raise PromptError("no examples to build prompts from (the dataset is empty)",
                          hint="check the dataset path and --limit")
    fields = template_fields(cfg.template)
    if not fields:
        raise PromptError("the prompt template uses no field of the data, so every prompt would be the same",
                          hint="add a placeholder such as {dialogue} to `template` in configs/prompt.yaml")
    cut = cfg.budget.truncate_field
    if cut is not None and cut not in fields:
        raise PromptError(f"budget.truncate_field '{cut}' is not a field the template uses ({', '.join(fields)})",
                          hint="name one of the template's fields, or remove truncate_field to cut the longest")
    for source, items in (("example", examples), ("shot", pool or [])):
        missing = next((i for i, ex in enumerate(items) if cfg.id_field not in ex), None)
        if missing is not None:
            raise PromptError(f"{source} #{missing + 1} has no id field '{cfg.id_field}'; available fields: "
                              f"{', '.join(sorted(items[missing]))}",
                              hint="set `id_field` in configs/prompt.yaml to the field that names each example")
    k = cfg.shots.k if k is None else k
    if k < 0:
        raise PromptError(f"the number of shots must be 0 or more, not {k}")
    check_examples(examples, cfg, need_target=False, fields=fields)
    shot_pool = ShotPool(examples if pool is None else pool, cfg.id_field, cfg.shots)
    if k > 0:
        shot_pool.check_k(k, [str(ex[cfg.id_field]) for ex in examples])
        check_examples(shot_pool.candidates(k), cfg, need_target=True, role="shot", fields=fields)
    return cfg, k, shot_pool, _Renderer(cfg, tokenizer, uses_chat_template(cfg, tokenizer))


def prompt_lengths(examples: list[dict], cfg: PromptConfig, tokenizer, *, k: int,
                   pool: list[dict] | None = None) -> list[int]:
    """Token count of each example's prompt with exactly K shots (no budget policy applied)."""
    cfg, k, shot_pool, r = _setup(examples, cfg, tokenizer, k, pool)
    return r.count([r.text(ex, shot_pool.select(str(ex[cfg.id_field]), k)) for ex in examples])


def _limit(context_window: int, reserve_tokens: int, encoder_decoder: bool) -> tuple[int, str]:
    reserved = 0 if encoder_decoder else max(0, reserve_tokens)
    limit = context_window - reserved
    how = f"context window {context_window}" + (f" - {reserved} reserved for new tokens" if reserved else "")
    if limit <= 0:
        raise PromptError(f"no room for a prompt: {how}",
                          hint="lower max_new_tokens in configs/generation.yaml or raise max_context in configs/model.yaml")
    return limit, how


def build_prompts(examples: list[dict], cfg: PromptConfig, tokenizer, *, k: int | None = None,
                  context_window: int, reserve_tokens: int = 0, pool: list[dict] | None = None,
                  encoder_decoder: bool = True) -> list[RenderedPrompt]:
    """One RenderedPrompt per example, in input order, each within the token budget (see the module doc).

    `k` overrides cfg.shots.k; `pool` is where shots come from (default: `examples`); `reserve_tokens`
    (max_new_tokens) counts against the window only for decoder-only models."""
    cfg, k, shot_pool, r = _setup(examples, cfg, tokenizer, k, pool)
    limit, how = _limit(context_window, reserve_tokens, encoder_decoder)
    ids = [str(ex[cfg.id_field]) for ex in examples]
    shots = [shot_pool.select(i, k) for i in ids]
    texts = [r.text(ex, s) for ex, s in zip(examples, shots)]
    counts = r.count(texts)
    out: list[RenderedPrompt] = []
    too_long: list[tuple[str, int]] = []
    policy = cfg.budget.policy
    for ex, ex_id, chosen, text, n in zip(examples, ids, shots, texts, counts):
        cut_field, cut_tokens = None, 0
        if n > limit:
            if policy == "auto":
                chosen, text, n, cut_field, cut_tokens = _fit_auto(r, ex, chosen, limit)
            elif policy == "truncate":
                text, n, cut_field, cut_tokens = _truncate(r, ex, chosen, limit)
            if n > limit:
                too_long.append((ex_id, n))
                continue
        out.append(RenderedPrompt(
            id=ex_id, text=text, n_tokens=n, shots_used=len(chosen),
            shot_ids=[str(s[cfg.id_field]) for s in chosen], truncated=cut_tokens > 0,
            truncated_tokens=cut_tokens, reference=ex.get(cfg.target_field), shots_requested=k,
            truncated_field=cut_field if cut_tokens else None, add_special_tokens=not r.chat, chat=r.chat,
            rag=ex.get("rag") if isinstance(ex.get("rag"), dict) else None))
    if too_long:
        raise _too_long_error(too_long, len(examples), k, policy, limit, how)
    return out


def _fit_auto(r: "_Renderer", ex: dict, shots: list[dict], limit: int):
    """`auto`: cut the input (keeping `keep_input` of it) to leave room for the shots, then drop shots
    one at a time; with none left cut as far as needed. (shots, text, n_tokens, field, tokens cut)."""
    keep_share = r.cfg.budget.keep_input
    for kk in range(len(shots), -1, -1):
        chosen = shots[:kk]
        text = r.text(ex, chosen)
        n = r.count([text])[0]
        if n <= limit:
            return chosen, text, n, None, 0
        text, n, name, cut = _truncate(r, ex, chosen, limit)
        total = _Cutter(r.tokenizer, value_text(ex[name]), r.cfg.budget.truncate_side).n_tokens
        kept = (total - cut) / total if total else 1.0
        if n <= limit and (kk == 0 or kept >= keep_share):
            return chosen, text, n, name, cut
    return [], text, n, name, cut  # over the limit even with no shots and a one-token input


def _too_long_error(too_long, n_examples, k, policy, limit, how) -> PromptError:
    first_id, first_n = too_long[0]
    shots = f"{k} shots" if policy == "error" else f"{k} shots and its input cut to one token"
    if policy == "auto":
        shots = "0 shots and its input cut to one token"
    listing = _ids([f"{i} ({n})" for i, n in too_long])
    msg = f"example '{first_id}' needs {first_n} tokens with {shots} but the budget is {limit} ({how})"
    if n_examples > 1:
        msg += f"; {len(too_long)} of {n_examples} examples do not fit: {listing}"
    # Each hint moves forward: error -> auto; truncate -> auto; auto (the template alone is too long)
    # -> a shorter template or a longer window. None points back to the policy that sent the user here.
    hints = {
        "auto": "the template without its input is longer than the budget: shorten `template` / `system` / "
                "`answer_prefix` in configs/prompt.yaml, or use a model with a longer context window",
        "error": "set `budget.policy: auto` in configs/prompt.yaml (cuts the input, then drops shots; recorded "
                 "per example), or lower K (--shots)",
        "truncate": "the shots alone fill the budget: set `budget.policy: auto` (it drops shots once the input "
                    "is cut to budget.keep_input) or lower K (--shots)",
    }
    return PromptError(msg, hint=hints[policy])


def _truncate(r: _Renderer, ex: dict, shots: list[dict], limit: int) -> tuple[str, int, str, int]:
    """Cut the input field by tokens until the prompt fits: (text, n_tokens, field, tokens cut).

    Binary search on the number of kept tokens, counting the whole prompt each time (token merges at
    the cut make counts not quite additive). Keeps at least one token; if that does not fit either, the
    returned count is still over the limit and the caller refuses the example."""
    cfg = r.cfg
    name = cfg.budget.truncate_field or max(template_fields(cfg.template), key=lambda f: len(value_text(ex[f])))
    value = value_text(ex[name])
    cut = _Cutter(r.tokenizer, value, cfg.budget.truncate_side)

    def attempt(keep: int) -> tuple[str, int]:
        text = r.text({**ex, name: cut.keep(keep)}, shots)
        return text, r.count([text])[0]

    lo, hi = 1, cut.n_tokens - 1
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        text, n = attempt(mid)
        if n <= limit:
            best, lo = (mid, text, n), mid + 1
        else:
            hi = mid - 1
    if best is None:
        text, n = attempt(1)
        return text, n, name, cut.n_tokens - 1
    keep, text, n = best
    return text, n, name, cut.n_tokens - keep


class _Cutter:
    """Keeps the first or last N tokens of a string, cutting the original text at token boundaries."""

    def __init__(self, tokenizer, value: str, side: str) -> None:
        self.value, self.side, self.tokenizer = value, side, tokenizer
        if getattr(tokenizer, "is_fast", False):
            enc = tokenizer(value, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
            self.offsets = enc["offset_mapping"]
            self.ids = enc["input_ids"]
        else:
            self.offsets = None
            self.ids = tokenizer(value, add_special_tokens=False, verbose=False)["input_ids"]
        self.n_tokens = len(self.ids)

    def keep(self, n: int) -> str:
        n = max(0, min(n, self.n_tokens))
        if self.offsets is None:
            ids = self.ids[:n] if self.side == "right" else self.ids[self.n_tokens - n:]
            return self.tokenizer.decode(ids, skip_special_tokens=True)
        if n == 0:
            return ""
        if self.side == "right":  # cut the right end: keep the start
            return self.value[: self.offsets[n - 1][1]]
        return self.value[self.offsets[self.n_tokens - n][0]:]
