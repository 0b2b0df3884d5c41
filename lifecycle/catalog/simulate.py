"""Simulate one step on fake tensors (no memory, no compute) and record the peak of live bytes.

Every tensor the step creates goes through a TorchDispatchMode that adds its storage's bytes when
it appears and subtracts them when it is freed (a weakref callback), so the peak reflects what
PyTorch really keeps alive: saved activations, dropout masks, the KV cache, gradients as backward
writes them while it frees activations, AdamW's states and its step temporaries. Kernels are
chosen as on CPU (fake tensors report device cpu), e.g. fused SDPA attention without an s x s matrix.
"""

from __future__ import annotations

import warnings
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field

from lifecycle.errors import CatalogError

PHASES = ("forward", "backward", "optimizer")


@dataclass
class Moment:
    """Bytes the step created (weights excluded) at one candidate peak moment, by creating phase."""

    peak: int = 0
    at_peak: dict[str, int] = field(default_factory=dict)


@dataclass
class StepPeak:
    """Candidate peaks of a step: one for inference; for training the forward/backward peak (with
    the AdamW states of a previous step) and the optimizer step's own peak. Each is linear in depth,
    their maximum is not, so depth extrapolation works per moment."""

    moments: list[Moment] = field(default_factory=list)
    optimizer_states: int = 0

    @property
    def highest(self) -> Moment:
        return max(self.moments, key=lambda m: m.peak)

    @property
    def peak(self) -> int:
        return self.highest.peak


@contextmanager
def quiet():
    """Library warnings about the throw-away simulated model (deprecations, loss_type) are noise
    to someone asking for a memory estimate."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(level)


def _tracker_class():
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class LiveBytes(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.existing: set[int] = set()  # storages of weights and buffers: views of them are free
            self.phase = "forward"
            self.live: dict[int, tuple[int, str, object]] = {}
            self.current = dict.fromkeys(PHASES, 0)
            self.peak = 0
            self.at_peak: dict[str, int] = {}

        def _freed(self, key: int) -> None:
            nbytes, phase, _ = self.live.pop(key, (0, "forward", None))
            self.current[phase] -= nbytes

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_flatten(out)[0]:
                if not isinstance(t, torch.Tensor):
                    continue
                st = t.untyped_storage()
                key = id(st)
                if key in self.live or key in self.existing:
                    continue
                nbytes = st.nbytes()
                self.live[key] = (nbytes, self.phase, weakref.ref(st, lambda _r, k=key: self._freed(k)))
                self.current[self.phase] += nbytes
                total = sum(self.current.values())
                if total > self.peak:
                    self.peak, self.at_peak = total, dict(self.current)
            return out

    return LiveBytes


def meta_to_fake(model, fake_mode):
    """`to_empty` materializes each module's tensors separately, which would untie shared weights:
    re-tie them afterwards so gradients accumulate into one tensor, as in the real model."""
    import torch

    groups: dict[int, list[str]] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        groups.setdefault(id(p), []).append(name)
    tied = [names for names in groups.values() if len(names) > 1]

    def put(name: str, param) -> None:
        owner, _, attr = name.rpartition(".")
        setattr(model.get_submodule(owner), attr, param)

    for names in tied:  # placeholders, so each tensor is converted once
        for name in names[1:]:
            put(name, torch.nn.Parameter(torch.empty(0, device="meta"), requires_grad=False))
    with fake_mode:
        model.to_empty(device="cpu")
    for names in tied:
        shared = model.get_parameter(names[0])
        for name in names[1:]:
            put(name, shared)
    return model


def _inputs(model, architecture: str, batch_size: int, seq_len: int, train: bool, target_len: int | None = None):
    import torch

    vocab = model.config.get_text_config().vocab_size
    ids = torch.randint(0, vocab, (batch_size, seq_len))
    if architecture == "encoder-decoder":
        dec = (torch.randint(0, vocab, (batch_size, target_len)) if target_len else ids) if train else ids[:, :1]
        kw = dict(input_ids=ids, decoder_input_ids=dec, use_cache=not train)
        return {**kw, "labels": dec} if train else kw
    if architecture == "decoder":
        return dict(input_ids=ids, labels=ids) if train else dict(input_ids=ids, use_cache=True, logits_to_keep=1)
    return dict(input_ids=ids)


def _loss(out):
    loss = getattr(out, "loss", None)
    if loss is not None:
        return loss
    return out.last_hidden_state.float().mean()  # a bare encoder: any scalar exercises the same backward


def simulate_step(build, *, architecture: str, train: bool, batch_size: int, seq_len: int,
                  optimizer: bool = True, target_len: int | None = None) -> StepPeak:
    """Build the model on the meta device with `build()`, turn it into fake tensors, run one
    inference forward or one training step (forward, backward, AdamW step) and return the peak of
    bytes the step created. `target_len`: an encoder-decoder's decoder length in training (default
    `seq_len`).

    The peak of a second training step is the first step's forward/backward peak plus the AdamW
    states that then already exist, or the optimizer step itself, whichever is larger."""
    with quiet():
        return _simulate_step(build, architecture, train, batch_size, seq_len, optimizer, target_len)


def _simulate_step(build, architecture: str, train: bool, batch_size: int, seq_len: int, optimizer: bool,
                   target_len: int | None) -> StepPeak:
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    tracker = _tracker_class()()
    meta_model = build()
    fake_mode = FakeTensorMode(allow_non_fake_inputs=True)
    try:
        model = meta_to_fake(meta_model, fake_mode)
        with fake_mode:
            model.train(train)
            tracker.existing = {id(t.untyped_storage()) for t in (*model.parameters(), *model.buffers())}
            inputs = _inputs(model, architecture, batch_size, seq_len, train, target_len)
            if not train:
                moments: list[Moment] = []
                if architecture == "encoder-decoder":
                    # the encoder's peak does not grow with the decoder's KV cache: keep it apart,
                    # so each moment stays linear in depth
                    def encoder_done(*_):
                        moments.append(Moment(tracker.peak, dict(tracker.at_peak)))
                        tracker.peak = 0

                    model.get_encoder().register_forward_hook(encoder_done)
                with torch.no_grad(), tracker:
                    out = model(**inputs)
                del out
                return StepPeak([*moments, Moment(tracker.peak, dict(tracker.at_peak))], 0)
            trainable = [p for p in model.parameters() if p.requires_grad]
            opt = torch.optim.AdamW(trainable, lr=1e-4, foreach=False)
            with tracker:
                tracker.phase = "forward"
                loss = _loss(model(**inputs))
                tracker.phase = "backward"
                loss.backward()
                del loss
                fwd_bwd_peak, fwd_bwd_at = tracker.peak, dict(tracker.at_peak)
                tracker.peak = 0
                tracker.phase = "optimizer"
                if optimizer:
                    opt.step()
                step_peak, step_at = tracker.peak, dict(tracker.at_peak)
            states = sum(t.untyped_storage().nbytes() for s in opt.state.values() for t in s.values()
                         if isinstance(t, torch.Tensor))
    except CatalogError:
        raise
    except Exception as err:  # an architecture whose forward cannot run on fake tensors
        raise CatalogError(f"cannot simulate a step of this model on fake tensors: {str(err).splitlines()[0][:200]}") from err
    at = dict(fwd_bwd_at)
    at["optimizer"] = at.get("optimizer", 0) + states
    return StepPeak([Moment(fwd_bwd_peak + states, at), Moment(step_peak, step_at)], states)
