"""Stop sequences and per-row finish bookkeeping during `generate`.

transformers pads a row with `pad_token_id` once it is done, and a model may also generate the pad
token for real (T5 uses id 0 for both pad and decoder start), so the number of tokens a row really
produced cannot be read off the output. This criterion watches every step and records, per row,
the step at which it finished and why: end-of-sequence, or a stop sequence (which it also enforces,
so generation stops early instead of running to max_new_tokens), or a cancel callback of the row
returning True (a client gone: the row stops and frees its share of the batch's work once all rows are done)."""

from __future__ import annotations

from transformers import StoppingCriteria


class FinishRecorder(StoppingCriteria):
    def __init__(self, tokenizer, *, batch_size: int, start: int, eos_ids: set[int], stops: list[str],
                 cancels: list | None = None) -> None:
        self.tokenizer = tokenizer
        self.start = start  # index in input_ids of the first generated token
        self.eos_ids = set(eos_ids)
        self.stops = list(stops)
        self.finished_at = [0] * batch_size  # generated tokens, including the one that finished the row
        self.reason = ["length"] * batch_size
        # A stop sequence of n characters spans at most n+1 tokens; decode a short tail, not the whole output.
        self._tail = max((len(s) for s in self.stops), default=0) + 2
        self.cancels = list(cancels or [None] * batch_size)

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        step = input_ids.shape[1] - self.start
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        last = input_ids[:, -1].tolist()
        for row, token in enumerate(last):
            if self.finished_at[row]:
                continue
            if token in self.eos_ids:
                self.finished_at[row], self.reason[row] = step, "eos"
                continue
            cancel = self.cancels[row]
            if cancel is not None and cancel():
                self.finished_at[row], self.reason[row] = step, "cancelled"
                done[row] = True
                continue
            if self.stops:
                tail = input_ids[row, max(self.start, input_ids.shape[1] - self._tail):].tolist()
                text = self.tokenizer.decode(tail, skip_special_tokens=True)
                if any(s in text for s in self.stops):
                    self.finished_at[row], self.reason[row] = step, "stop"
                    done[row] = True
        return done


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Text up to the first stop sequence (earliest position wins), and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
