"""configs/align.yaml: preference pairs, review, preference data, DPO, reward model, win-rate."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from lifecycle.config.finetune import PeftSettings, TrainingSettings


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PairsSettings(Strict):
    candidates: int = Field(default=2, ge=2, le=64, description="Candidates sampled per prompt (pairs: 0-1, 2-3, ...).")
    preset: Literal["greedy", "sampling", "beam"] = Field(
        default="sampling", description="Generation preset for the candidates (sampling gives distinct ones).")
    max_new_tokens: Optional[int] = Field(default=None, ge=1, description="Default: configs/generation.yaml.")
    temperature: Optional[float] = Field(default=None, gt=0, le=100, description="sampling only.")
    data: Optional[str] = Field(default=None, description="Prompts (JSONL). Default: the prompt config's dataset.")
    limit: Optional[int] = Field(default=None, ge=1, description="Use the first N prompts.")
    seed: Optional[int] = Field(default=None, ge=0, description="Default: the generation config's seed.")
    greedy_first: bool = Field(
        default=True, description="Candidate 0 of each prompt is the greedy answer (what `align eval` compares), the "
        "others sampled: the preferences, and a reward model trained on them, then cover the outputs being judged.")


class PreferenceDataSettings(Strict):
    judgments: str = Field(default="data/preferences/judgments.jsonl", description="Where `lifecycle review` appends.")
    out_dir: str = Field(default="data/preferences", description="train.jsonl and heldout.jsonl go here.")
    heldout_fraction: float = Field(default=0.2, ge=0, lt=1, description="Share of prompts (not pairs) held out.")
    agreement: float = Field(default=0.5, gt=0, le=1,
                             description="A pair is kept when at least this share of its votes name one side (and no other side has as many).")
    min_pairs: int = Field(default=1, ge=1, description="Refuse to write fewer training pairs.")
    seed: int = 42


class DPOSettings(Strict):
    method: Literal["lora", "full"] = "lora"
    loss: Literal["sigmoid", "ipo"] = Field(default="sigmoid", description="sigmoid = DPO; ipo = IPO (length-normalised).")
    beta: float = Field(default=0.1, gt=0, description="Strength of the pull back to the reference model.")
    reference: Literal["auto", "precompute", "adapter_disabled"] = Field(
        default="auto", description="auto: the adapter-disabled base under LoRA, log-probs precomputed once for full.")
    train: str = "data/preferences/train.jsonl"
    max_source_tokens: int = Field(default=512, ge=1)
    max_target_tokens: int = Field(default=128, ge=1)
    peft: PeftSettings = Field(default_factory=PeftSettings)
    training: TrainingSettings = Field(default_factory=lambda: TrainingSettings(learning_rate=5e-4, batch_size=4))


class RewardSettings(Strict):
    model: Optional[str] = Field(default=None, description="Base of the reward model (default: configs/model.yaml's).")
    train: str = "data/preferences/train.jsonl"
    heldout: str = "data/preferences/heldout.jsonl"
    max_tokens: int = Field(default=512, ge=8)
    learning_rate: float = Field(default=1e-3, gt=0)
    epochs: int = Field(default=3, ge=1)
    batch_size: int = Field(default=8, ge=1)
    seed: int = 42


class AlignEvalSettings(Strict):
    data: str = Field(default="data/preferences/heldout.jsonl", description="Held-out prompts (a `prompt` field).")
    preset: Literal["greedy", "sampling", "beam"] = "greedy"
    max_new_tokens: Optional[int] = Field(default=None, ge=1)
    bootstrap_samples: int = Field(default=1000, ge=100)
    seed: int = 42


class AlignConfig(Strict):
    """configs/align.yaml (`lifecycle align pairs|data|dpo|reward|eval`, `lifecycle review`)."""

    pairs: PairsSettings = Field(default_factory=PairsSettings)
    preferences: PreferenceDataSettings = Field(default_factory=PreferenceDataSettings)
    dpo: DPOSettings = Field(default_factory=DPOSettings)
    reward: RewardSettings = Field(default_factory=RewardSettings)
    eval: AlignEvalSettings = Field(default_factory=AlignEvalSettings)
