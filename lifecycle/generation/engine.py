"""The batched inference engine.

    engine = Engine(load_model_from_config(model_cfg), settings)
    outputs = engine.generate(prompts)          # list[Generation], in input order

Prompts are tokenized once, sorted by length and grouped by a token budget; each batch runs one
`model.generate` under `torch.inference_mode`; results go back to input order. Greedy outputs are
the same as generating one example at a time (left padding for decoder-only models, attention masks
everywhere). A CUDA out-of-memory halves the batch and retries. On CPU the batch runs the fast
paths of fast_paths.py (prompts prefilled apart into a static cache, the vocabulary projection in
slices, split products, in-place elementwise work, a cross-attention cache that copies nothing):
measured, and checked to leave the outputs as they were.

Stop sequences end a row early through a StoppingCriteria that also records where each row really
finished (see stopping.py); under beam search they only cut the text afterwards."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Sequence

from lifecycle.config.generation import GenerationSettings
from lifecycle.errors import GenerationError
from lifecycle.generation.batching import BatchLimits, plan_batches, split
from lifecycle.generation.decoding import batch_seed, to_generation_config
from lifecycle.loading import LoadedModel

# Called before each batch with (batch_size, padded_tokens); it may raise torch.OutOfMemoryError.
# Lets a test (or a user with a shared GPU) impose a memory limit on batches.
BatchGuard = Callable[[int, int], None]


@dataclass
class Generation:
    text: str
    tokens_in: int
    tokens_out: int
    stopped_by: str  # "eos" | "stop" | "length" | "cancelled"
    token_ids: list[int] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("token_ids")
        return data


@dataclass
class EngineStats:
    examples: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    batches: int = 0
    oom_retries: int = 0
    batch_sizes: list[int] = field(default_factory=list)


# Optional per request: a prompt object with a `cancel` attribute holding a no-argument callable
# returning True once its result is no longer wanted (a client that disconnected). The engine polls
# it every decoding step; the row stops there and comes back with stopped_by "cancelled".
Cancel = Callable[[], bool]


@dataclass
class _Item:
    index: int
    key: str
    text: str
    ids: list[int]
    cancel: Cancel | None = None


def _text_and_key(prompt: Any, index: int) -> tuple[str, str, bool]:
    """(text, key, add_special_tokens) for a plain string or a RenderedPrompt-like object."""
    if isinstance(prompt, str):
        return prompt, str(index), True
    text = getattr(prompt, "text", None)
    if not isinstance(text, str):
        raise GenerationError(f"prompt {index}: expected a string or a rendered prompt, got {type(prompt).__name__}")
    return text, str(getattr(prompt, "id", index)), bool(getattr(prompt, "add_special_tokens", True))


def _always() -> bool:
    return True


def _cancel_of(prompt: Any) -> Cancel | None:
    cancel = None if isinstance(prompt, str) else getattr(prompt, "cancel", None)
    return cancel if callable(cancel) else None


class Engine:
    def __init__(self, loaded: LoadedModel, settings: GenerationSettings | None = None, *,
                 stop: Sequence[str] = (), batch_guard: BatchGuard | None = None, progress: bool = False) -> None:
        self.loaded = loaded
        self.settings = (settings or GenerationSettings()).resolved()
        self.stops = list(dict.fromkeys([*self.settings.stop, *stop]))
        self.batch_guard = batch_guard
        self.progress = progress
        # Optional: called with the batch's prompt keys (row order) before each model.generate; it
        # returns a transformers streamer (or None). The server streams tokens through it.
        self.streamer_factory: Callable[[list[str]], Any] | None = None
        self.generation_config = to_generation_config(self.settings, loaded.model, loaded.tokenizer)
        self.stats = EngineStats()
        self._cap = self.settings.max_batch_size  # lowered for good after an out-of-memory
        # A row's greedy output independent of its batch (numerics.py): on for CPU, where serve and
        # generate must agree byte for byte; GPU kernels have their own shape-dependent reductions.
        self.batch_invariant = loaded.device.type == "cpu"
        tok = loaded.tokenizer
        if tok.pad_token_id is None:
            raise GenerationError(f"the tokenizer of '{loaded.ref}' has no pad token and no eos token to pad with",
                                  hint="set a pad token in the tokenizer config, or generate one example at a time "
                                  "(max_batch_size: 1)")
        if not loaded.encoder_decoder:
            tok.padding_side = "left"  # generation appends on the right: real tokens must end every row
        eos = self.generation_config.eos_token_id
        self._eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])

    # ------------------------------------------------------------------ public API
    def generate(self, prompts: Sequence[Any]) -> list[Generation]:
        """One Generation per prompt, in input order."""
        out: list[Generation | None] = [None] * len(prompts)
        for index, gen in self.iter_generate(prompts):
            out[index] = gen
        return out  # type: ignore[return-value]

    def iter_generate(self, prompts: Sequence[Any], *, skip: set[str] | frozenset = frozenset()
                      ) -> Iterator[tuple[int, Generation]]:
        """(input index, Generation) pairs, a batch at a time (longest inputs first).

        Batches are planned over all prompts, then prompts whose key (id) is in `skip` are left out:
        a resumed run forms the same batches (and draws the same samples) for what is left."""
        items = self._tokenize(prompts)
        limits = BatchLimits(self.settings.batch_tokens, self.settings.max_batch_size,
                             self.settings.max_new_tokens, self.settings.num_beams or 1)
        plan = plan_batches([len(it.ids) for it in items], limits)
        # The sampling seed of a batch comes from its planned members, so that a batch a resumed run
        # redoes whole draws the same samples as it would have in the uninterrupted run.
        todo = [(batch_seed(self.settings.seed, [items[i].key for i in batch]),
                 [items[i] for i in batch if items[i].key not in skip]) for batch in plan]
        todo = [(seed, b) for seed, b in todo if b]
        with self._progress(sum(len(b) for _, b in todo)) as advance:
            for seed, batch in todo:
                results = self._run_batch(batch, seed)
                advance(len(results), sum(g.tokens_out for _, g in results))
                for item, gen in results:
                    yield item.index, gen

    # ------------------------------------------------------------------ internals
    def _tokenize(self, prompts: Sequence[Any]) -> list[_Item]:
        tok = self.loaded.tokenizer
        items = []
        for i, prompt in enumerate(prompts):
            text, key, special = _text_and_key(prompt, i)
            if not text.strip():
                raise GenerationError(f"prompt '{key}' is empty", hint="check the template and the data fields it uses")
            ids = tok(text, add_special_tokens=special)["input_ids"]
            if not ids:
                raise GenerationError(f"prompt '{key}' has no tokens")
            items.append(_Item(i, key, text, ids, _cancel_of(prompt)))
        if not self.loaded.encoder_decoder:
            limit = self.loaded.context_window
            for it in items:
                if len(it.ids) + self.settings.max_new_tokens > limit:
                    raise GenerationError(
                        f"prompt '{it.key}' has {len(it.ids)} tokens; with max_new_tokens "
                        f"{self.settings.max_new_tokens} it exceeds the context window of {limit}",
                        hint="lower max_new_tokens, use fewer shots, or set a truncation policy in configs/prompt.yaml")
        return items

    def _run_batch(self, batch: list[_Item], seed: int) -> list[tuple[_Item, Generation]]:
        """Generate for a batch; on out-of-memory halve it (and the cap for later batches) and retry."""
        import torch

        results: list[tuple[_Item, Generation]] = []
        pending = split(batch, self._cap)
        while pending:
            part = pending.pop(0)
            try:
                results.extend(zip(part, self._generate_once(part, seed)))
            except torch.OutOfMemoryError as err:
                if len(part) == 1:
                    raise GenerationError(
                        f"out of memory generating a single example ('{part[0].key}', {len(part[0].ids)} tokens)",
                        hint="lower max_new_tokens or num_beams, use a smaller model or dtype, or a larger device") from err
                self._free_memory()
                self.stats.oom_retries += 1
                self._cap = (len(part) + 1) // 2  # 7 -> 4 -> 2 -> 1
                pending = [piece for chunk in [part, *pending] for piece in split(chunk, self._cap)]
        return results

    def _free_memory(self) -> None:
        import gc

        import torch

        gc.collect()
        if self.loaded.device.type == "cuda":
            torch.cuda.empty_cache()

    def _generate_once(self, part: list[_Item], seed: int) -> list[Generation]:
        import torch
        from transformers import StoppingCriteriaList

        from lifecycle.generation.fast_paths import (chunked_output_head, decoding_config, inplace_elementwise,
                                                     keeps_cross, packed_cross_projections, prefill_apart,
                                                     prefills_apart, split_products)
        from lifecycle.generation.numerics import batch_rows, invariant_attention
        from lifecycle.generation.stopping import FinishRecorder

        tok, model = self.loaded.tokenizer, self.loaded.model
        beams = self.settings.num_beams or 1
        rows = list(part)
        if self.batch_invariant:
            # Matmuls round a lone row, and a few other small row counts, differently from larger
            # batches: pad with copies of the last row, whose results are dropped (see numerics.py).
            rows += [part[-1]] * (batch_rows(model, len(rows), beams) - len(rows))
        enc = tok.pad({"input_ids": [it.ids for it in rows]}, padding=True, return_tensors="pt")
        input_ids = enc["input_ids"].to(self.loaded.device)
        attention = enc["attention_mask"].to(self.loaded.device)
        if self.batch_guard is not None:
            self.batch_guard(len(part), int(input_ids.numel()))
        start = 1 if self.loaded.encoder_decoder else input_ids.shape[1]
        recorder = None
        criteria = StoppingCriteriaList()
        if beams == 1:  # beams are reordered every step: per-row bookkeeping is meaningless there
            # Padding rows count as finished from the first step: they never prolong the batch.
            cancels = [it.cancel for it in part] + [_always] * (len(rows) - len(part))
            recorder = FinishRecorder(tok, batch_size=len(rows), start=start, eos_ids=self._eos_ids, stops=self.stops,
                                      cancels=cancels)
            criteria.append(recorder)
        if self.settings.do_sample:
            torch.manual_seed(seed)
        keys = [it.key for it in part] + [None] * (len(rows) - len(part))  # None: a padding row
        streamer = self.streamer_factory(keys) if self.streamer_factory and beams == 1 else None
        cpu = self.loaded.device.type == "cpu"
        with torch.inference_mode(), invariant_attention(model, self.batch_invariant) as invariant, \
                chunked_output_head(model, cpu), split_products(model, cpu), inplace_elementwise(model, cpu):
            config = decoding_config(self.generation_config, self.loaded, beams, invariant)  # fast_paths.py
            if self.loaded.encoder_decoder and tok.padding_side == "right":
                # The encoder runs once per input: encode in groups of similar length (little padding),
                # then decode the whole batch (where batching pays) at once.
                encoded = self._encode(input_ids, attention, invariant)
                cache = {}
                if keeps_cross(config, self.loaded, beams, invariant):
                    from lifecycle.generation.cross_cache import kept_cross_cache

                    cache = {"cache": kept_cross_cache(model)}
                with packed_cross_projections(model, encoded.last_hidden_state, attention, cpu,
                                              zero_padding=not invariant, views=bool(cache)):
                    out = model.generate(encoder_outputs=encoded, attention_mask=attention, generation_config=config,
                                         stopping_criteria=criteria, streamer=streamer, **cache)
            else:
                cache = None
                if prefills_apart(config):  # prefill apart, decode together (as the encoder above)
                    cache = prefill_apart(model, [it.ids for it in rows], self.settings.max_new_tokens)
                if cache is not None:
                    config = self.generation_config  # the cache is given: no cache_implementation with it
                out = model.generate(input_ids=input_ids, attention_mask=attention, generation_config=config,
                                     stopping_criteria=criteria, streamer=streamer,
                                     **({"cache": cache} if cache is not None else {}))
        out = out[:, start:].tolist()
        gens = []
        for row, (item, seq) in enumerate(zip(part, out)):
            n, reason = self._finish(seq, recorder, row)
            gens.append(self._decode(item, seq[:n], reason))
        self.stats.batches += 1
        self.stats.batch_sizes.append(len(part))
        return gens

    # Rows x width per encoder group: small enough that a group holds inputs of similar length.
    encoder_group_tokens = 2048

    def _encode(self, input_ids, attention, invariant: bool = False):
        """Encoder outputs for a right-padded batch, zero at the padding (masked anyway).

        Inputs are encoded in groups of similar length, each padded only to its own longest row.
        Batch-invariant, a group runs its attention row by row on each input's real tokens (`invariant`,
        numerics.py), so an input gets the states it gets encoded alone; an input whose length is a
        row count the matmuls round differently is encoded alone (it is its own reference). Without
        the row-by-row attention every input is encoded alone."""
        import torch
        from transformers.modeling_outputs import BaseModelOutput

        from lifecycle.generation.numerics import unsafe_rows

        model = self.loaded.model
        encoder = model.get_encoder()
        lengths = attention.sum(dim=1).tolist()
        same: dict[tuple, list[int]] = {}  # padding rows repeat a real row: encode each input once
        for i, n in enumerate(lengths):
            same.setdefault(tuple(input_ids[i, :n].tolist()), []).append(i)
        inputs = sorted(same.values(), key=lambda rows: -lengths[rows[0]])  # each: the rows holding it

        unsafe = unsafe_rows(model) if self.batch_invariant else frozenset()
        alone = {rows[0] for rows in inputs if self.batch_invariant and (not invariant or lengths[rows[0]] in unsafe)}
        groups: list[list[list[int]]] = []
        for rows in inputs:
            last = groups[-1] if groups else None
            tokens = (len(last) + 1) * lengths[last[0][0]] if last else 0
            if last and rows[0] not in alone and last[0][0] not in alone and tokens <= self.encoder_group_tokens \
                    and tokens not in unsafe:
                last.append(rows)
            else:
                groups.append([rows])
        hidden = None
        for group in groups:
            width = lengths[group[0][0]]
            index = torch.tensor([rows[0] for rows in group], device=input_ids.device)
            mask = attention[index, :width]
            states = encoder(input_ids=input_ids[index, :width], attention_mask=mask).last_hidden_state
            if len(group) > 1:
                states = states.masked_fill(~mask.bool()[..., None], 0.0)
            if hidden is None:
                hidden = states.new_zeros((input_ids.shape[0], input_ids.shape[1], states.shape[-1]))
            for row, rows in enumerate(group):
                hidden[rows, :width] = states[row]
        return BaseModelOutput(last_hidden_state=hidden)

    def _finish(self, seq: list[int], recorder, row: int) -> tuple[int, str]:
        """How many generated tokens are real, and why the row stopped."""
        if recorder is not None:
            at = recorder.finished_at[row]
            return (at, recorder.reason[row]) if at else (len(seq), "length")
        for i, t in enumerate(seq):  # beam search: rows end at their first eos, padding after
            if t in self._eos_ids:
                return i + 1, "eos"
        pad = self.loaded.tokenizer.pad_token_id
        n = len(seq)
        while n and seq[n - 1] == pad:
            n -= 1
        return n, "length"

    def _decode(self, item: _Item, ids: list[int], reason: str) -> Generation:
        from lifecycle.generation.stopping import cut_at_stop

        text = self.loaded.tokenizer.decode(ids, skip_special_tokens=True)
        if self.stops:
            text, cut = cut_at_stop(text, self.stops)
            reason = "stop" if cut else reason
        self.stats.examples += 1
        self.stats.tokens_in += len(item.ids)
        self.stats.tokens_out += len(ids)
        return Generation(text.strip(), len(item.ids), len(ids), reason, list(ids))

    def _progress(self, total: int):
        from lifecycle.generation.progress import generation_progress

        return generation_progress(total, enabled=self.progress)
