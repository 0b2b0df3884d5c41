"""Everything `prompt render` / `prompt budget` (and the generate command) need from a project:
the resolved prompt config, the examples, the shot pool, the model's tokenizer and its budget.

Only the model's config and tokenizer are loaded (no weights), so this is fast for any model size."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lifecycle.config.generation import GenerationSettings
from lifecycle.config.prompt import PromptConfig, resolve_prompt_config
from lifecycle.config.yaml_io import load_config
from lifecycle.data import load_jsonl, prompt_field_types
from lifecycle.errors import PromptError, did_you_mean
from lifecycle.loading import context_window, is_encoder_decoder, load_model_config, load_tokenizer
from lifecycle.prompting.builder import build_prompts
from lifecycle.prompting.preprocess import project_preprocess


@dataclass
class PromptInputs:
    cfg: PromptConfig            # preset applied
    examples: list[dict]
    data_path: Path
    pool: list[dict] | None      # None: shots come from `examples`
    tokenizer: Any
    model_ref: str
    context_window: int
    encoder_decoder: bool
    reserve_tokens: int          # max_new_tokens; counts against the window for decoder-only models

    @classmethod
    def of(cls, cfg: PromptConfig, examples: list[dict], tokenizer, *, context_window: int, encoder_decoder: bool,
           reserve_tokens: int = 0, pool: list[dict] | None = None, data_path: Path | None = None,
           model_ref: str = "") -> PromptInputs:
        """Inputs not read from the project's configs: the fine-tune data's examples and length
        limit, or one chat request and its earlier turns (see `for_model`)."""
        return cls(cfg, examples, data_path if data_path is not None else Path(), pool, tokenizer, model_ref,
                   context_window, encoder_decoder, reserve_tokens)

    @classmethod
    def for_model(cls, loaded, cfg: PromptConfig, examples: list[dict], *, reserve_tokens: int,
                  pool: list[dict] | None = None, data_path: Path | None = None) -> PromptInputs:
        """Inputs for a loaded model (lifecycle.loading.LoadedModel): its tokenizer, window and architecture."""
        return cls.of(cfg, examples, loaded.tokenizer, context_window=loaded.context_window,
                      encoder_decoder=loaded.encoder_decoder, reserve_tokens=reserve_tokens, pool=pool,
                      data_path=data_path, model_ref=str(loaded.ref))

    def with_model(self, loaded) -> PromptInputs:
        """These inputs with a loaded model's tokenizer, window and architecture standing in for the
        config-only ones (the model actually asked may be a tuned or quantized one)."""
        return replace(self, tokenizer=loaded.tokenizer, context_window=loaded.context_window,
                       encoder_decoder=loaded.encoder_decoder)

    @property
    def limit(self) -> int:
        return self.context_window - (0 if self.encoder_decoder else self.reserve_tokens)

    def build(self, k: int, *, examples: list[dict] | None = None, pool: list[dict] | None = None):
        """The prompts for K shots: the one call every command makes (prompt render, generate, eval,
        the fine-tune evaluation and training examples, serve chat and bench, quantize, RAG, align).
        The only place that passes build_prompts its keywords; a loaded model stands in for the
        config-only tokenizer and window through `with_model`; `examples` for a subset."""
        return build_prompts(self.examples if examples is None else examples, self.cfg, self.tokenizer, k=k,
                             context_window=self.context_window, reserve_tokens=self.reserve_tokens,
                             pool=self.pool if pool is None else pool, encoder_decoder=self.encoder_decoder)

    def example(self, example_id: str | None) -> dict:
        """One example by id (the first when None); an unknown id names the closest ones."""
        if example_id is None:
            return self.examples[0]
        by_id = {ex[self.cfg.id_field]: ex for ex in self.examples}
        if example_id not in by_id:
            raise PromptError(f"{self.data_path}: {did_you_mean(example_id, by_id, kind='example id')}")
        return by_id[example_id]

    def render_one(self, example_id: str | None, k: int):
        """The prompt of one example with K shots drawn from the rest of the data (or shots.pool)."""
        chosen = self.example(example_id)
        return self.build(k, examples=[chosen], pool=self.pool if self.pool is not None else self.examples)[0]

    def budget_text(self) -> str:
        if self.encoder_decoder:
            return f"{self.limit} tokens (context window {self.context_window}; encoder-decoder)"
        return (f"{self.limit} tokens (context window {self.context_window} - {self.reserve_tokens} "
                f"max_new_tokens; decoder-only)")


_WORDING = {"preset", "template", "answer_prefix", "separator", "system", "use_chat_template"}


def load_prompt_config(project, config: str | Path | None = None, preset: str | None = None) -> PromptConfig:
    """configs/prompt.yaml (or `config`), with `preset` overriding the file's preset, resolved."""
    # Unresolved on purpose: --preset must know which fields the file itself sets.
    cfg = load_config(Path(config) if config else project.path(project.manifest.adaptation.prompt), PromptConfig)
    if preset:
        # --preset replaces the prompt's wording; the data's fields (id, target), shots, budget and stop stay.
        kept = {k: v for k, v in cfg.model_dump(exclude_unset=True).items() if k not in _WORDING}
        cfg = PromptConfig.model_validate({**kept, "preset": preset})
    return resolve_prompt_config(cfg)


def dataset_path(project, data: str | Path | None = None) -> Path:
    """--data, else configs/eval.yaml's dataset, else the manifest's sample."""
    if data:
        return Path(data)
    if project.path(project.manifest.evaluation.config).is_file():
        return project.path(project.eval_config().dataset.path)
    return project.path(project.manifest.data.sample)


def load_prompt_examples(project, cfg: PromptConfig, path: Path, *, limit: int | None = None
                         ) -> tuple[list[dict], list[dict] | None]:
    """(examples, shot pool) as every prompt sees them: loaded by the one data loader, then through
    the project's `preprocess` function when configs/prompt.yaml names one."""
    prepare = project_preprocess(project, cfg)
    examples = load_jsonl(path, id_field=cfg.id_field, limit=limit, **prompt_field_types(cfg))
    return prepare(examples), prepare(load_shot_pool(cfg, project.root))


def load_shot_pool(cfg: PromptConfig, root: str | Path) -> list[dict] | None:
    """The examples of `shots.pool` (relative to the project root), or None to draw from the dataset."""
    if not cfg.shots.pool:
        return None
    path = Path(cfg.shots.pool)
    return load_jsonl(path if path.is_absolute() else Path(root) / path, id_field=cfg.id_field, **prompt_field_types(cfg))


def _model_ref(project, model: str | None, model_cfg) -> str:
    if model:
        return str(Path(model).resolve()) if Path(model).expanduser().is_dir() else model
    local = project.path(model_cfg.model)
    return str(local) if local.is_dir() else model_cfg.model


def load_prompt_inputs(project, *, model: str | None = None, config: str | Path | None = None,
                       preset: str | None = None, data: str | Path | None = None,
                       limit: int | None = None, prompt_cfg: PromptConfig | None = None,
                       model_cfg=None) -> PromptInputs:
    """The project's prompt inputs; `prompt_cfg` (resolved, as run.yaml records it) / `model_cfg`
    (a ModelConfig) stand in for configs/prompt.yaml / configs/model.yaml (a resumed run's configs)."""
    cfg = prompt_cfg if prompt_cfg is not None else load_prompt_config(project, config, preset)
    path = dataset_path(project, data)
    examples, pool = load_prompt_examples(project, cfg, path, limit=limit)
    model_cfg = model_cfg if model_cfg is not None else project.model_config()
    ref = _model_ref(project, model, model_cfg)
    revision = None if model else model_cfg.revision
    hf_config = load_model_config(ref, revision, model_cfg.trust_remote_code)
    if model_cfg.architecture == "auto":
        enc_dec = is_encoder_decoder(hf_config)
    else:
        enc_dec = model_cfg.architecture == "seq2seq"
    tok = load_tokenizer(ref, revision, model_cfg.trust_remote_code, decoder_only=not enc_dec)
    window = context_window(hf_config, tok, model_cfg.max_context)
    reserve = 0
    if not enc_dec:  # decoder-only: the new tokens share the window with the prompt
        gen_file = project.path(project.manifest.adaptation.generation)
        reserve = (project.generation_config() if gen_file.is_file() else GenerationSettings()).max_new_tokens
    return PromptInputs(cfg, examples, path, pool, tok, ref, window, enc_dec, reserve)
