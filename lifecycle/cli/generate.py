"""`lifecycle generate`: prompts -> batched generation -> one run folder per K (the ICL ladder).
Thin: parse -> lifecycle.generation.session -> print."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.choices import GENERATION_PRESET
from lifecycle.cli.options import sub_app, PROJECT_OPTION, parse_shots

EPILOG = (
    "Examples:\n\n"
    "  lifecycle generate                                # K and wording from configs/prompt.yaml\n\n"
    "  lifecycle generate --shots 0,1,3 --limit 20       # the in-context-learning ladder, one run per K\n\n"
    "  lifecycle generate --preset sampling --limit 5    # top-k/top-p/temperature, seeded\n\n"
    "  lifecycle generate --prompt-preset dialogue-flan  # the FLAN template\n\n"
    "  lifecycle generate --model ./models/flan-t5-base --data data/dev.jsonl\n\n"
    "  lifecycle generate --resume RUN_ID                # finish an interrupted run\n\n"
    "Each run folder (runs/<time>-generate-<hash>/) holds run.yaml (resolved configs, model, dataset sha256, "
    "versions, seed, command, wall time) and predictions.jsonl (id, prompt, prediction, references, tokens in/out, "
    "shots used, truncation). Score a run with `lifecycle eval run --rescore RUN_ID`."
)


app = sub_app()  # top-level verbs; lifecycle.cli.main adds them

@app.command("generate", epilog=EPILOG)
def generate_cmd(
    shots: Optional[str] = typer.Option(None, "--shots", "-k", help="Comma list of K, one run each (default: shots.k of configs/prompt.yaml)."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="First N examples only."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Generation config (default: configs/generation.yaml)."),
    preset: Optional[str] = typer.Option(None, "--preset", parser=GENERATION_PRESET, metavar="PRESET", help="Generation preset: greedy, sampling or beam (overrides the config's)."),
    prompt_config: Optional[Path] = typer.Option(None, "--prompt-config", help="Prompt config (default: configs/prompt.yaml)."),
    prompt_preset: Optional[str] = typer.Option(None, "--prompt-preset", help="Built-in prompt wording, e.g. dialogue-flan (`lifecycle prompt presets`)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Hub id or local folder; overrides configs/model.yaml."),
    data: Optional[Path] = typer.Option(None, "--data", "-d", help="JSONL dataset (default: configs/eval.yaml's dataset, else data/sample.jsonl)."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Run id (or folder) of an interrupted generate run to finish."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Override the config's seed (sampling)."),
    show: int = typer.Option(3, "--show", min=0, help="Examples to print side by side."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar with examples/s and tokens/s."),
    rag: bool = typer.Option(False, "--rag", help="Fill the prompt's {context} with chunks retrieved from the "
                             "`lifecycle rag index` (configs/rag.yaml); chunks dropped to fit the budget are reported."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Generate predictions for the dataset, one run per number of shots K."""
    from lifecycle.generation.display import print_side_by_side, print_summary
    from lifecycle.generation.session import GenerateRequest, resume_generate, run_generate
    from lifecycle.project import Project

    proj = Project.find(project)
    if resume:
        given = [n for n, v in (("--shots", shots), ("--limit", limit), ("--config", config), ("--preset", preset),
                                ("--prompt-config", prompt_config), ("--prompt-preset", prompt_preset),
                                ("--model", model), ("--data", data), ("--seed", seed), ("--rag", rag or None)) if v is not None]
        if given:
            raise typer.BadParameter(f"{', '.join(given)} cannot change a resumed run: it continues with the "
                                     "settings in its run.yaml", param_hint="--resume")
        results = [resume_generate(proj, resume, progress=progress)]
    else:
        if rag:  # a derived dataset (and prompt config) under .lifecycle/rag/augmented/, see lifecycle.rag.augment
            from lifecycle.rag.augment import augment_dataset

            aug = augment_dataset(proj, data=data, prompt_config=prompt_config, prompt_preset=prompt_preset,
                                  model=model, limit=limit)
            typer.echo(aug.line(), err=True)
            data, prompt_config = aug.data, aug.prompt_config or prompt_config
            prompt_preset = None if aug.prompt_config else prompt_preset
        request = GenerateRequest(shots=parse_shots(shots), limit=limit, config=config, preset=preset,
                                  prompt_config=prompt_config, prompt_preset=prompt_preset, model=model, data=data,
                                  seed=seed)
        results = run_generate(proj, request, progress=progress)
    print_side_by_side(results, show)
    print_summary(results, proj.root)
