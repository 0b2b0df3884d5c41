"""A generated project on disk: where its manifest, configs, data and runs are."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from lifecycle.config.eval import EvalConfig
from lifecycle.config.finetune import FinetuneConfig
from lifecycle.config.generation import GenerationSettings
from lifecycle.config.model import ModelConfig
from lifecycle.config.prompt import PromptConfig, resolve_prompt_config
from lifecycle.config.yaml_io import load_config
from lifecycle.errors import ProjectNotFoundError
from lifecycle.manifest import MANIFEST_FILE, Manifest, load_manifest

TOOL_DIR = ".lifecycle"


def find_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above `start` holding lifecycle.yaml."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST_FILE).is_file():
            return folder
    raise ProjectNotFoundError(
        f"no {MANIFEST_FILE} in {here} or any parent folder",
        hint="run inside a project made by `lifecycle new NAME`, or pass --project DIR",
    )


class Project:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    @classmethod
    def find(cls, start: str | Path | None = None) -> "Project":
        return cls(find_root(start))

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_FILE

    @cached_property
    def manifest(self) -> Manifest:
        return load_manifest(self.manifest_path)

    def path(self, relative: str | Path) -> Path:
        """A project-relative path from a config, resolved against the root."""
        p = Path(relative)
        return p if p.is_absolute() else self.root / p

    @property
    def configs_dir(self) -> Path:
        return self.root / "configs"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def tool_dir(self) -> Path:
        return self.root / TOOL_DIR

    def load(self, relative: str | Path, model):
        """Load and validate a project YAML file against a pydantic model."""
        return load_config(self.path(relative), model)

    def model_config(self):
        return self.load("configs/model.yaml", ModelConfig)

    def model_config_for(self, model: str | None = None):
        """configs/model.yaml with `model` (a --model override: hub id or folder, revision dropped)
        in its place; a model folder given relative to the project resolved against the project."""
        cfg = self.model_config()
        if model:
            folder = Path(model).expanduser()
            ref = str(folder.resolve()) if folder.is_dir() else model
            return cfg.model_copy(update={"model": ref, "revision": None})
        local = self.path(cfg.model)
        return cfg.model_copy(update={"model": str(local)}) if local.is_dir() else cfg

    def prompt_config(self):
        """configs/prompt.yaml with its `preset` applied (template and target_field always set)."""
        return resolve_prompt_config(self.load(self.manifest.adaptation.prompt, PromptConfig))

    def generation_config(self):
        return self.load(self.manifest.adaptation.generation, GenerationSettings)

    def generation_settings(self) -> GenerationSettings:
        """configs/generation.yaml, or the default settings when the project has none (it is optional)."""
        gen_file = self.path(self.manifest.adaptation.generation)
        return self.generation_config() if gen_file.is_file() else GenerationSettings()

    def eval_config(self):
        return self.load(self.manifest.evaluation.config, EvalConfig)

    def finetune_config(self):
        return self.load(self.manifest.adaptation.finetune, FinetuneConfig)
