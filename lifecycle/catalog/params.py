"""Exact parameter counts: build the model on the meta device (no weights) and count.

A model reference is a catalog id (its stored config dims are used, fully offline), a local folder
with config.json, or a hub id already in the Hugging Face cache. torch/transformers load lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle.catalog.entry import CLASS_FOR_ARCH, CatalogEntry
from lifecycle.errors import CatalogError, ModelLoadError


@dataclass
class ModelSpec:
    """A model's architecture, resolved from a catalog entry, a folder or the cache."""

    label: str
    config: Any  # transformers.PretrainedConfig
    model_class: str  # an Auto class name or a concrete transformers class name
    raw: dict[str, Any] = field(default_factory=dict)  # config.json values as written
    entry: CatalogEntry | None = None

    @property
    def architecture(self) -> str:
        if getattr(self.config, "is_encoder_decoder", False):
            return "encoder-decoder"
        if self.entry is not None:
            return self.entry.architecture
        return "decoder" if _is_generative(self.model_class) else "encoder"


def _is_generative(class_name: str) -> bool:
    return any(k in class_name for k in ("CausalLM", "LMHead", "Seq2SeqLM", "ConditionalGeneration"))


def config_from_dims(dims: dict[str, Any]):
    """A transformers config from catalog dims ({model_type: ..., sizes...})."""
    from transformers import AutoConfig

    values = dict(dims)
    model_type = values.pop("model_type")
    try:
        return AutoConfig.for_model(model_type, **values)
    except (ValueError, TypeError) as err:
        raise CatalogError(f"cannot build a '{model_type}' config from the catalog values: "
                           f"{str(err).splitlines()[0]}") from err


def _class_for_folder(config) -> str:
    import transformers

    for name in getattr(config, "architectures", None) or []:
        if hasattr(transformers, name):
            return name
    if getattr(config, "is_encoder_decoder", False):
        return "AutoModelForSeq2SeqLM"
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    return "AutoModelForCausalLM" if config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES else "AutoModel"


def resolve_spec(ref: str | Path, *, revision: str | None = None, trust_remote_code: bool = False) -> ModelSpec:
    """Catalog id -> stored dims; folder or cached hub id -> its config.json."""
    from lifecycle.catalog import get_entry, lookup

    ref = str(ref)
    entry = lookup(ref)
    if entry is not None:
        return ModelSpec(entry.id, config_from_dims(entry.config), entry.model_class, dict(entry.config), entry)
    from lifecycle.loading import load_model_config

    folder = Path(ref).expanduser()
    try:
        config = load_model_config(ref, revision, trust_remote_code)
    except ModelLoadError as err:
        if folder.exists() or ref.startswith((".", "/", "~")):
            raise
        get_entry(ref)  # an unknown id that is not cached either: say "did you mean" from the catalog
        raise err  # pragma: no cover - get_entry always raises here
    raw: dict[str, Any] = {}
    if (folder / "config.json").is_file():
        from lifecycle.textio import read_json  # bad bytes or JSON in a model folder: one located line

        raw = read_json(folder / "config.json", limit=16 * 1024 * 1024, kind="model config", error=CatalogError)
        raw = raw if isinstance(raw, dict) else {}
    return ModelSpec(ref, config, _class_for_folder(config), raw, None)


def _untie_if_checkpoint_is_untied(model, raw: dict[str, Any]) -> None:
    """transformers 5 always ties T5's lm_head when building from a config, but FLAN-T5 / T5 v1.1
    checkpoints (config.json `tie_word_embeddings: false`) ship a separate lm_head: give it its own
    meta tensor so the count matches what from_pretrained loads."""
    import torch

    if raw.get("tie_word_embeddings", True) is not False:
        return
    out, inp = model.get_output_embeddings(), model.get_input_embeddings()
    if out is not None and inp is not None and out.weight is inp.weight:
        out.weight = torch.nn.Parameter(inp.weight.detach().clone())


def build_meta_model(spec: ModelSpec, dtype=None):
    """The model class instantiated on the meta device (fp32 unless `dtype`; shapes only, no memory)."""
    import torch
    import transformers

    dtype = dtype or torch.float32
    cls = getattr(transformers, spec.model_class)
    try:
        with torch.device("meta"):
            model = cls.from_config(spec.config, dtype=dtype) if spec.model_class.startswith("Auto") \
                else cls(spec.config).to(dtype)
    except (ValueError, TypeError, AttributeError) as err:
        raise CatalogError(f"cannot build {spec.model_class} for '{spec.label}': {str(err).splitlines()[0]}") from err
    _untie_if_checkpoint_is_untied(model, spec.raw)
    return model


def count_model_parameters(model) -> int:
    """Unique parameters (a tied weight counts once), as model.num_parameters() does."""
    return sum(p.numel() for p in model.parameters())


def count_parameters(ref_or_config, *, model_class: str | None = None, trust_remote_code: bool = False) -> int:
    """Exact parameter count of a catalog id, folder, cached hub id, transformers config, or
    catalog-style dims dict ({model_type: ..., ...})."""
    spec = as_spec(ref_or_config, model_class=model_class, trust_remote_code=trust_remote_code)
    return count_model_parameters(build_meta_model(spec))


def as_spec(ref_or_config, *, model_class: str | None = None, trust_remote_code: bool = False) -> ModelSpec:
    if isinstance(ref_or_config, ModelSpec):
        return ref_or_config
    if isinstance(ref_or_config, (str, Path)):
        spec = resolve_spec(ref_or_config, trust_remote_code=trust_remote_code)
    elif isinstance(ref_or_config, dict):
        config = config_from_dims(ref_or_config)
        spec = ModelSpec(str(ref_or_config.get("model_type")), config, "", dict(ref_or_config))
        spec.model_class = _default_class(config)
    else:  # a transformers PretrainedConfig
        # T5 forgets `tie_word_embeddings: false` (it forces True) but keeps its trace here
        raw = {"tie_word_embeddings": False} if getattr(ref_or_config, "scale_decoder_outputs", None) is False else {}
        spec = ModelSpec(getattr(ref_or_config, "model_type", "model"), ref_or_config, "", raw)
        spec.model_class = _default_class(ref_or_config)
    if model_class:
        spec.model_class = model_class
    return spec


def _default_class(config) -> str:
    if getattr(config, "is_encoder_decoder", False):
        return CLASS_FOR_ARCH["encoder-decoder"]
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    return CLASS_FOR_ARCH["decoder"] if config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES else CLASS_FOR_ARCH["encoder"]
