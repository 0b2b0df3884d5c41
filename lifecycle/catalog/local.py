"""Local model folders as first-class selections: which catalog model a folder is a copy of.

A folder (e.g. `models/flan-t5-base`, downloaded with `hf download ID --local-dir ...`) declares
its catalog model in one of these places, first found wins:
  1. `base_model:` in the YAML front matter of its README.md, the Hugging Face model-card field
     (`hf download` brings the card along; a string, or a list whose first item is used);
  2. `_name_or_path` in its config.json, when that is a catalog id (some exports keep it).
With a declared base, the licence check uses the catalog entry; memory and context are always
measured on the folder's own config.json (a tiny local model is judged as what it is)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lifecycle.catalog import CatalogEntry, lookup

_MAX_CARD_BYTES = 1024 * 1024
# transformers class-name endings of heads that generate text
_GENERATIVE_HEADS = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")


@dataclass(frozen=True)
class LocalModel:
    folder: Path
    shown: str                      # as it is written in the configs (project-relative when inside)
    base: CatalogEntry | None       # the catalog model it declares to copy
    declared_in: str | None         # "README.md base_model" / "config.json _name_or_path"
    declared: str | None            # the declared name, also when the catalog does not know it
    architecture: str | None        # encoder, encoder-decoder or decoder (from config.json)

    def describe(self) -> str:
        if self.base is not None:
            return f"local folder {self.shown}, a copy of {self.base.id} ({self.declared_in})"
        if self.declared:
            return f"local folder {self.shown}, declared a copy of '{self.declared}' ({self.declared_in}; not in the catalog)"
        return f"local folder {self.shown} (declares no base model: README.md `base_model:` would)"


def find_folder(root: Path, ref: str | None) -> Path | None:
    """`ref` as a model folder: relative to the project root, or as given (absolute, ~)."""
    if not ref:
        return None
    for p in (Path(root) / ref, Path(ref).expanduser()):
        if p.is_dir():
            return p
    return None


def _card_base(folder: Path) -> str | None:
    from lifecycle.config.yaml_io import parse_yaml
    from lifecycle.errors import LifecycleError
    from lifecycle.textio import read_text

    card = folder / "README.md"
    if not card.is_file():
        return None
    try:
        text = read_text(card, limit=_MAX_CARD_BYTES, kind="model card")
    except LifecycleError:
        return None
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    if end < 0:
        return None
    try:
        meta = parse_yaml(text[3:end], card).data
    except LifecycleError:
        return None
    base = meta.get("base_model") if isinstance(meta, dict) else None
    if isinstance(base, list) and base:
        base = base[0]
    return base.strip() if isinstance(base, str) and base.strip() else None


def _config(folder: Path) -> dict:
    from lifecycle.errors import LifecycleError
    from lifecycle.textio import read_json

    try:
        cfg = read_json(folder / "config.json")
    except (LifecycleError, OSError):
        return {}
    return cfg if isinstance(cfg, dict) else {}


def folder_architecture(config: dict) -> str | None:
    """encoder-decoder, decoder or encoder from config.json (an encoder family such as BERT has a
    causal-LM class in transformers, but its checkpoint has no trained LM head: judged by the head
    the checkpoint was saved with)."""
    if not config:
        return None
    if config.get("is_encoder_decoder"):
        return "encoder-decoder"
    heads = [a for a in config.get("architectures") or [] if isinstance(a, str)]
    if any(a.endswith(_GENERATIVE_HEADS) for a in heads) or config.get("is_decoder"):
        return "decoder"
    return "encoder"


def local_model(root: Path, ref: str | None) -> LocalModel | None:
    """The folder `ref` names with what it declares, or None when `ref` is not a folder."""
    folder = find_folder(root, ref)
    if folder is None:
        return None
    try:
        shown = folder.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        shown = str(folder.resolve())
    config = _config(folder)
    declared, where = _card_base(folder), "README.md base_model"
    if declared is None:
        name = config.get("_name_or_path")
        if isinstance(name, str) and lookup(name) is not None:
            declared, where = name, "config.json _name_or_path"
    base = lookup(declared) if declared else None
    return LocalModel(folder, shown, base, where if declared else None, declared, folder_architecture(config))


def same_model(root: Path, a: str | None, b: str | None) -> bool:
    """Do two model references name the same model: equal text, the same folder, or a folder and
    the catalog model it declares to copy?"""
    if not a or not b:
        return False
    if a == b:
        return True
    fa, fb = local_model(root, a), local_model(root, b)
    if fa and fb:
        return fa.folder.resolve() == fb.folder.resolve()
    folder, other = (fa, b) if fa else (fb, a) if fb else (None, None)
    if folder is None or folder.base is None:
        return False
    entry = lookup(other)
    return entry is not None and entry.id == folder.base.id
