"""configs/generation.yaml: decoding settings, validated with ranges, turned into a GenerationConfig.

Three presets, as in the course lab: `greedy` (deterministic), `sampling` (top_k / top_p /
temperature, reproducible through `seed`) and `beam`. A field that only means something for another
preset (temperature under greedy, num_beams under sampling) is refused rather than silently ignored;
`resolved()` fills in each preset's defaults so that a run records exactly what was used."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

Preset = Literal["greedy", "sampling", "beam"]

# Fields owned by one decoding mode; everything else applies to every preset.
SAMPLING_FIELDS = ("temperature", "top_k", "top_p")
BEAM_FIELDS = ("num_beams", "length_penalty", "early_stopping")
PRESET_FIELDS = ("do_sample", *SAMPLING_FIELDS, *BEAM_FIELDS)

# Defaults a preset fills in (the transformers defaults, stated explicitly so run.yaml shows them).
PRESET_DEFAULTS: dict[str, dict] = {
    "greedy": {"do_sample": False, "num_beams": 1},
    "sampling": {"do_sample": True, "num_beams": 1, "temperature": 1.0, "top_k": 50, "top_p": 1.0},
    "beam": {"do_sample": False, "num_beams": 4, "length_penalty": 1.0, "early_stopping": True},
}


def _are(names: list[str]) -> str:
    return f"{', '.join(names)} {'is' if len(names) == 1 else 'are'}"


class GenerationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: Preset = Field(default="greedy", description="greedy | sampling | beam")
    max_new_tokens: int = Field(default=128, ge=1, le=32768, description="Tokens generated at most per example.")
    min_new_tokens: Optional[int] = Field(default=None, ge=0, le=32768,
                                          description="Tokens generated at least (end-of-sequence is suppressed before).")
    do_sample: Optional[bool] = Field(default=None, description="true under `sampling`; true under `beam` = beam sampling.")
    temperature: Optional[float] = Field(default=None, gt=0, le=100, description="sampling: <1 sharper, >1 flatter.")
    top_k: Optional[int] = Field(default=None, ge=1, le=1_000_000, description="sampling: keep the k most likely tokens.")
    top_p: Optional[float] = Field(default=None, gt=0, le=1, description="sampling: keep the smallest set with mass >= p.")
    num_beams: Optional[int] = Field(default=None, ge=1, le=64, description="beam: beams kept per example (>= 2).")
    length_penalty: Optional[float] = Field(default=None, ge=-10, le=10, description="beam: >0 favours longer outputs.")
    early_stopping: Optional[bool] = Field(default=None, description="beam: stop when num_beams candidates are done.")
    repetition_penalty: Optional[float] = Field(default=None, gt=0, le=10, description="1.0 = none; >1 discourages repeats.")
    no_repeat_ngram_size: Optional[int] = Field(default=None, ge=0, le=100, description="Forbid repeating n-grams of this size.")
    stop: list[str] = Field(default_factory=list, description="Stop sequences (added to the prompt config's); output is cut at the first.")
    seed: int = Field(default=42, ge=0, le=2**32 - 1, description="Seeds sampling so that runs are reproducible.")
    batch_tokens: int = Field(default=8192, ge=1, description="Token budget per batch: size x (longest input + max_new_tokens) x beams.")
    max_batch_size: int = Field(default=64, ge=1, le=4096, description="Examples per batch at most.")

    @model_validator(mode="after")
    def _consistent(self) -> "GenerationSettings":
        problems = []
        given = lambda fields: [f for f in fields if getattr(self, f) is not None]  # noqa: E731
        many_beams = ["num_beams"] if (self.num_beams or 1) != 1 else []
        if self.preset == "greedy":
            stray = given(SAMPLING_FIELDS) + given(("length_penalty", "early_stopping")) + many_beams
            if stray:
                problems.append(f"{_are(stray)} only used by another preset; set `preset: sampling` or "
                                "`preset: beam`, or remove them")
            if self.do_sample:
                problems.append("do_sample: true is the `sampling` preset; set `preset: sampling`")
        elif self.preset == "sampling":
            if self.do_sample is False:
                problems.append("do_sample: false contradicts `preset: sampling`; use `preset: greedy`")
            stray = given(("length_penalty", "early_stopping")) + many_beams
            if stray:
                problems.append(f"{_are(stray)} only used by `preset: beam`")
        else:  # beam
            if self.num_beams is not None and self.num_beams < 2:
                problems.append("num_beams must be >= 2 for `preset: beam` (1 beam is greedy)")
            if not self.do_sample and given(SAMPLING_FIELDS):
                problems.append(f"{', '.join(given(SAMPLING_FIELDS))} need `do_sample: true` "
                                "(beam sampling) under `preset: beam`")
        if self.min_new_tokens is not None and self.min_new_tokens > self.max_new_tokens:
            problems.append(f"min_new_tokens ({self.min_new_tokens}) is larger than max_new_tokens ({self.max_new_tokens})")
        if any(not s for s in self.stop):
            problems.append("stop: an empty stop sequence would stop at once; remove it")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def resolved(self) -> "GenerationSettings":
        """A copy with the preset's defaults filled in: what run.yaml records and what is used."""
        filled = {k: v for k, v in PRESET_DEFAULTS[self.preset].items() if getattr(self, k) is None}
        return self.model_copy(update=filled)

    def with_preset(self, preset: str) -> "GenerationSettings":
        """Switch preset (the `--preset` flag): mode-specific fields of the old preset are dropped,
        common ones (max_new_tokens, seed, stop, batching...) kept."""
        if preset == self.preset:
            return self
        data = self.model_dump(exclude_unset=True)
        for f in PRESET_FIELDS:
            data.pop(f, None)
        data["preset"] = preset
        return GenerationSettings.model_validate(data)
