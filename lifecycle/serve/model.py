"""What the server serves: the project's base model, or the model a run produced, named by run id.

    served = load_served(project)                      # configs/model.yaml
    served = load_served(project, run="RUN_ID")        # finetune (adapter or full), merge, quantize run

The served name is what clients send as `model` and what every response and /v1/models report,
with the run id and a content hash of the weights (the artifact that is served, for the checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.artifacts import weight_files, weights_hash  # noqa: F401  (part of this module's API)
from typing import Any

from lifecycle.errors import RunError
from lifecycle.finetune.run_model import TRAINED_KINDS, load_trained
from lifecycle.optimize.quantize import KIND as QUANTIZE_KIND, load_quantized

SERVABLE_KINDS = (*TRAINED_KINDS, QUANTIZE_KIND)


@dataclass
class ServedModel:
    loaded: Any                         # lifecycle.loading.LoadedModel
    name: str                           # what clients send as `model`
    base: str                           # model id or folder the weights come from
    run_id: str | None                  # the run whose artifact is served (None: the base model)
    run_kind: str | None
    prompt_cfg: Any                     # PromptConfig: chat rendering for models without a chat template
    settings: Any                       # GenerationSettings: the project's defaults for a request
    weights_sha256: str | None = None   # content hash of the served weight files (None: hub cache)
    extra: dict = field(default_factory=dict)
    prepare: Any = None                 # configs/prompt.yaml preprocess for chat examples (None: none)

    def describe(self) -> dict:
        return {"name": self.name, "base": self.base, "run": self.run_id, "run_kind": self.run_kind,
                "weights_sha256": self.weights_sha256, **self.extra}


def load_run_model(project, run):
    """(LoadedModel, base ref, weights folder or None, extra facts) for a finetune, merge or quantize run."""
    if run.kind in TRAINED_KINDS:
        return load_trained(project, run)
    if run.kind == QUANTIZE_KIND:
        return load_quantized(project, run)
    raise RunError(f"run {run.id} is a '{run.kind}' run; it holds no model to serve",
                   hint=f"serve the base model (no --run), or a run of kind {', '.join(SERVABLE_KINDS)}")


def load_served(project, *, run: str | None = None, model: str | None = None, name: str | None = None) -> ServedModel:
    from lifecycle.loading import load_model_from_config
    from lifecycle.prompting.project_inputs import load_prompt_config
    from lifecycle.runs.store import RunStore

    from lifecycle.prompting.preprocess import project_preprocess

    prompt_cfg = load_prompt_config(project)
    settings = project.generation_settings()
    prepare = project_preprocess(project, prompt_cfg) if prompt_cfg.preprocess else None
    if run:
        if model:
            raise RunError("give either a run or a model, not both", hint="--run RUN_ID serves that run's model")
        record = RunStore(project.runs_dir).get(run)
        if record.status != "complete":
            raise RunError(f"run {record.id} is {record.status}; only a complete run can be served")
        loaded, base, folder, extra = load_run_model(project, record)
        return ServedModel(loaded, name or record.id, base, record.id, record.kind, prompt_cfg, settings,
                           weights_hash(folder) if folder else extra.pop("weights_sha256", None), extra,
                           prepare=prepare)
    model_cfg = project.model_config_for(model)
    loaded = load_model_from_config(model_cfg)
    served_name = name or (model or project.manifest.selection.model or model_cfg.model)
    if Path(str(served_name)).expanduser().is_dir():  # a local folder: its name, not the machine's path
        served_name = Path(str(served_name)).expanduser().resolve().name
    from lifecycle.serve.identity import model_folder

    # a hub model is hashed from its cached snapshot, so it can be matched with the evaluated one too
    folder = model_folder(model_cfg.model, model_cfg.revision, root=project.root)
    return ServedModel(loaded, str(served_name), model_cfg.model, None, None, prompt_cfg, settings,
                       weights_hash(folder), prepare=prepare)
