"""Generation settings -> a transformers `GenerationConfig`; per-batch seeds for reproducible sampling."""

from __future__ import annotations

from lifecycle.config.generation import GenerationSettings
from lifecycle.errors import GenerationError

# Only the special-token ids are taken from a model's own generation_config.json: its sampling
# defaults (some models ship do_sample/temperature) would silently change our presets.
_TOKEN_FIELDS = ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id")
_PASSED = ("max_new_tokens", "min_new_tokens", "do_sample", "temperature", "top_k", "top_p", "num_beams",
           "length_penalty", "early_stopping", "repetition_penalty", "no_repeat_ngram_size")


def to_generation_config(settings: GenerationSettings, model=None, tokenizer=None):
    """A strict-valid `GenerationConfig` for `settings` (preset defaults filled in)."""
    from transformers import GenerationConfig

    resolved = settings.resolved()
    kwargs = {f: getattr(resolved, f) for f in _PASSED if getattr(resolved, f) is not None}
    base = getattr(model, "generation_config", None)
    for f in _TOKEN_FIELDS:
        value = getattr(base, f, None) if base is not None else None
        if value is None and model is not None:
            value = getattr(model.config, f, None)
        if value is not None:
            kwargs[f] = value
    if kwargs.get("pad_token_id") is None and tokenizer is not None and tokenizer.pad_token_id is not None:
        kwargs["pad_token_id"] = tokenizer.pad_token_id
    if kwargs.get("eos_token_id") is None and tokenizer is not None and tokenizer.eos_token_id is not None:
        kwargs["eos_token_id"] = tokenizer.eos_token_id
    config = GenerationConfig(**kwargs)
    try:
        config.validate(strict=True)
    except ValueError as err:  # our own validation should have caught it; say what transformers said
        raise GenerationError(f"generation settings rejected by transformers: {str(err).splitlines()[0]}") from err
    return config


def batch_seed(seed: int, keys: list[str]) -> int:
    """Seed for one batch, from the run's seed and the batch's example ids: a resumed run redraws
    exactly the samples an uninterrupted one would have drawn for the same batch."""
    from lifecycle.hashing import stable_hash
    return int(stable_hash([seed, keys], 15), 16)

