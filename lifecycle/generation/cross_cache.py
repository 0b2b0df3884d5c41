"""A cache for encoder-decoder decoding whose cross-attention layers keep the encoder's keys and
values as the projections made them.

transformers' DynamicCache stores a layer's first keys by concatenating them onto an empty tensor:
a copy of every cross-attention layer's keys and values (flan-t5-base, 64 DialogSum dialogues:
24 copies of 82 MB, ~2.4 s of the first decoding step). Kept as they are, the keys stay in the
projection's layout, (rows, keys, heads, head dim) seen as (rows, heads, keys, head dim), where the
copy is contiguous; numerics.projected_layout_agrees probes that attention over that layout gives a
row the bits it gets over a contiguous copy (what the one-at-a-time loop attends over), and a layer
whose keys come in any other layout is copied as before.

Only under the batch-invariant attention (numerics.py), which reads each row's real keys only."""

from __future__ import annotations

from transformers import DynamicCache, EncoderDecoderCache
from transformers.cache_utils import DynamicLayer


def _projected(t) -> bool:
    """Whether `t` is (rows, heads, keys, head dim) over a (rows, keys, heads x head dim) tensor."""
    if t.dim() != 4:
        return False
    _, heads, keys, dim = t.shape
    return t.stride(3) == 1 and t.stride(1) == dim and (keys == 1 or t.stride(2) == heads * dim)


class KeptLayer(DynamicLayer):
    """A cross-attention layer written once (the encoder's keys do not change): the first keys and
    values are kept as given when their layout is the probed one, else stored as DynamicLayer stores them."""

    def update(self, key_states, value_states, *args, **kwargs):
        from lifecycle.generation.numerics import projected_layout_agrees

        if self.is_initialized or not (_projected(key_states) and _projected(value_states)) \
                or not projected_layout_agrees(key_states.shape[1], key_states.shape[3], key_states.dtype):
            from lifecycle.generation.fast_paths import padded  # a stand-in is copied as what it stands for

            return super().update(padded(key_states), padded(value_states), *args, **kwargs)
        self.lazy_initialization(key_states, value_states)
        self.keys, self.values = key_states, value_states
        return self.keys, self.values


def kept_cross_cache(model) -> EncoderDecoderCache:
    """The cache generate would make for `model` (a DynamicCache for the decoder's own keys), with
    cross-attention layers that keep the projections (KeptLayer)."""
    cross = DynamicCache()
    cross.layer_class_to_replicate = KeptLayer  # layers are made as generate reaches them
    return EncoderDecoderCache(DynamicCache(config=model.config.get_text_config(decoder=True)), cross)
