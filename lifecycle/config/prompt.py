"""configs/prompt.yaml: how an example becomes a prompt (zero/one/few-shot) and how long it may be."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShotsConfig(Strict):
    k: int = Field(default=0, ge=0, le=64, description="Number of solved examples (shots) before the query.")
    selection: Literal["first", "random", "fixed"] = "first"
    ids: list[str] = Field(default_factory=list, description="Example ids for selection: fixed.")
    seed: int = 42
    pool: Optional[str] = Field(default=None, description="JSONL file to draw shots from; default: the dataset itself.")

    @model_validator(mode="after")
    def _fixed_needs_ids(self) -> "ShotsConfig":
        if self.selection == "fixed" and not self.ids:
            raise ValueError("selection 'fixed' needs a list of ids")
        return self


class BudgetConfig(Strict):
    policy: Literal["auto", "truncate", "error"] = Field(
        default="auto", description="auto: drop shots until it fits; truncate: cut the input; error: refuse.")
    truncate_field: Optional[str] = Field(default=None, description="Field to cut under 'truncate' (default: the longest).")
    truncate_side: Literal["left", "right"] = "right"


class PromptConfig(Strict):
    preset: Optional[str] = Field(default=None, description="Start from a built-in preset (`lifecycle prompt presets`).")
    template: str = Field(description="Instruction template with {field} placeholders from the data.")
    answer_prefix: str = Field(default="", description="Text after the template; in shots it precedes the answer.")
    target_field: str = Field(description="Field holding the reference answer (used for shots and evaluation).")
    id_field: str = "id"
    separator: str = Field(default="\n\n\n", description="Between shots and before the query.")
    stop: list[str] = Field(default_factory=list, description="Stop sequences; the output is cut at the first.")
    use_chat_template: Literal["auto", "always", "never"] = "auto"
    system: Optional[str] = Field(default=None, description="System message for chat templates.")
    shots: ShotsConfig = Field(default_factory=ShotsConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
