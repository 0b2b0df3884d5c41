"""`lifecycle align pairs|data|dpo|reward|eval`: human-feedback alignment. Thin: parse ->
lifecycle.align -> print. Heavy libraries load inside the commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import PROJECT_OPTION, sub_app

align_app = sub_app(
    help="Align the model with human feedback: on-policy pairs, preference data, DPO/IPO, reward model, win-rate.",
    epilog="Examples (the path, step by step):\n\n"
    "  lifecycle align pairs --candidates 4           # sample from the current model into a pairs run\n\n"
    "  lifecycle review --annotator alice             # blind A/B review, one key per pair\n\n"
    "  lifecycle align data                           # -> data/preferences/{train,heldout}.jsonl\n\n"
    "  lifecycle align dpo --loss sigmoid --method lora\n\n"
    "  lifecycle align reward                         # a Bradley-Terry reward model on the pairs\n\n"
    "  lifecycle align eval RUN --reward-run RM_RUN   # win-rate vs the reference with a 95% CI",
)


def _argv() -> list[str]:
    return ["lifecycle", *sys.argv[1:]]


@align_app.command("pairs", epilog="Examples:\n\n"
                   "  lifecycle align pairs                          # configs/align.yaml: pairs.candidates, preset\n\n"
                   "  lifecycle align pairs --candidates 4 --limit 50 --preset sampling\n\n"
                   "  lifecycle align pairs --from-run 20260101T1200 # from a finetune (or align) run\n\n"
                   "  lifecycle align pairs --resume RUN             # finish an interrupted pairs run")
def pairs_cmd(
    candidates: Optional[int] = typer.Option(None, "--candidates", "-n", min=2, help="Candidates per prompt."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Use the first N prompts."),
    preset: Optional[str] = typer.Option(None, "--preset", help="greedy, sampling or beam (default: sampling)."),
    from_run: Optional[str] = typer.Option(None, "--from-run", help="Sample from this finetune or align run."),
    model: Optional[str] = typer.Option(None, "--model", help="Sample from this model id or folder."),
    data: Optional[Path] = typer.Option(None, "--data", help="Prompts JSONL (default: the project's dataset)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Sampling seed."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Finish this interrupted pairs run."),
    config: Optional[Path] = typer.Option(None, "--config", help="Default: configs/align.yaml."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Sample N candidates per prompt from the current model; pairs go into a `pairs` run."""
    from lifecycle.align.pairs import PairsRequest, resume_pairs, sample_pairs
    from lifecycle.project import Project

    project = Project.find(project_dir)
    if resume:
        run = resume_pairs(project, resume, echo=typer.echo)
    else:
        if preset is not None and preset not in ("greedy", "sampling", "beam"):
            raise typer.BadParameter(f"'{preset}': use greedy, sampling or beam", param_hint="--preset")
        run = sample_pairs(project, PairsRequest(run_ref=from_run, model=model, candidates=candidates, limit=limit,
                                                 data=data, preset=preset, seed=seed, config=config, argv=_argv()),
                           echo=typer.echo)
    typer.echo(f"run folder: {run.path}")


@align_app.command("data", epilog="Examples:\n\n"
                   "  lifecycle align data                           # every pairs run + data/preferences/judgments.jsonl\n\n"
                   "  lifecycle align data --agreement 0.75 --heldout 0.2\n\n"
                   "  lifecycle align data --pairs RUN --judgments my_judgments.jsonl")
def data_cmd(
    pairs: Optional[list[str]] = typer.Option(None, "--pairs", help="Pairs run(s) (default: all complete ones)."),
    judgments: Optional[Path] = typer.Option(None, "--judgments", help="Default: preferences.judgments."),
    agreement: Optional[float] = typer.Option(None, "--agreement", min=0.0, max=1.0,
                                              help="Share of votes a side needs to keep a pair."),
    heldout: Optional[float] = typer.Option(None, "--heldout", min=0.0, max=0.99, help="Share of prompts held out."),
    config: Optional[Path] = typer.Option(None, "--config", help="Default: configs/align.yaml."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Judgments -> data/preferences/{train,heldout}.jsonl (prompt/chosen/rejected), split by prompt."""
    from lifecycle.align.pairs import load_align_config
    from lifecycle.align.preferences import build_preferences
    from lifecycle.align.review import pairs_of_runs
    from lifecycle.project import Project

    project = Project.find(project_dir)
    settings = load_align_config(project, config).preferences
    update = {k: v for k, v in (("agreement", agreement), ("heldout_fraction", heldout)) if v is not None}
    settings = settings.model_copy(update=update)
    out_dir = project.path(settings.out_dir)
    summary = build_preferences(pairs_of_runs(project, pairs), project.path(judgments or settings.judgments),
                                out_dir, settings)
    typer.echo(f"{summary['train']} training pairs ({summary['prompts_train']} prompts), {summary['heldout']} held out "
               f"({summary['prompts_heldout']} prompts); dropped: {summary['dropped']['tie']} ties, "
               f"{summary['dropped']['disagreement']} below agreement")
    for a in summary["agreement"]:
        typer.echo(f"agreement {a['annotators'][0]} vs {a['annotators'][1]}: kappa {a['kappa']:.3f} on {a['n']} pairs")
    typer.echo(f"wrote {out_dir / 'train.jsonl'} and {out_dir / 'heldout.jsonl'}")


@align_app.command("label", epilog="Examples (reward-labelled on-policy DPO, without PPO):\n\n"
                   "  lifecycle align pairs --candidates 8           # 1. sample from the current model\n\n"
                   "  lifecycle align label PAIRS_RUN --reward-run RM_RUN   # 2. best vs worst by the reward model\n\n"
                   "  lifecycle align dpo                            # 3. DPO on data/preferences/train.jsonl\n\n"
                   "  lifecycle align label PAIRS_RUN --oracle my_project.judges:score --out data/preferences\n\n"
                   "Judge the result with a reward model trained on other data than the one that labelled it.")
def label_cmd(
    run: str = typer.Argument(..., help="A pairs run (its candidates are scored, all N per prompt)."),
    reward_run: Optional[str] = typer.Option(None, "--reward-run", help="Score with this reward-model run."),
    oracle: Optional[str] = typer.Option(None, "--oracle", help="Score with module:function(prompt, output) -> float."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for train/heldout.jsonl (default: preferences.out_dir)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Default: configs/align.yaml."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Reward-labelled preferences: per prompt, chosen = best-scored candidate, rejected = worst."""
    from lifecycle.align.pairs import KIND, load_align_config
    from lifecycle.align.preferences import label_best_worst
    from lifecycle.errors import LifecycleError, RunError
    from lifecycle.project import Project
    from lifecycle.runs.store import RunStore

    project = Project.find(project_dir)
    if bool(reward_run) == bool(oracle):
        raise LifecycleError("give one scorer: --reward-run RUN or --oracle module:function")
    store = RunStore(project.runs_dir)
    pairs_run = store.get(run)
    if pairs_run.kind != KIND or pairs_run.status != "complete":
        raise RunError(f"run {pairs_run.id} is not a complete pairs run", hint="make one with `lifecycle align pairs`")
    if oracle:
        from lifecycle.align.winrate import load_oracle

        sys.path[:0] = [str(project.root), str(project.root / "src")]
        fn = load_oracle(oracle)
        score, source = (lambda prompt, texts: [float(fn(prompt, t)) for t in texts]), f"oracle:{oracle}"
    else:
        from lifecycle.align.reward import RewardScorer

        scorer = RewardScorer.from_run(store.get(reward_run))
        score, source = (lambda prompt, texts: scorer.score([prompt] * len(texts), texts)), f"reward:{reward_run}"
    settings = load_align_config(project, config).preferences
    folder = project.path(out or settings.out_dir)
    summary = label_best_worst(pairs_run.read_predictions(), score, folder, settings, source=source)
    typer.echo(f"{summary['train']} training pairs, {summary['heldout']} held out (best vs worst of each prompt; "
               f"{summary['dropped']['flat']} prompts with equal scores dropped) -> {folder}")


@align_app.command("dpo", epilog="Examples:\n\n"
                   "  lifecycle align dpo                            # configs/align.yaml: dpo\n\n"
                   "  lifecycle align dpo --loss ipo --beta 0.5 --method full --max-steps 200\n\n"
                   "  lifecycle align dpo --resume RUN               # continue from the last complete checkpoint\n\n"
                   "Encoder-decoder models (FLAN-T5) train through our seq2seq DPO loss; decoder-only ones through "
                   "TRL's DPOTrainer.")
def dpo_cmd(
    loss: Optional[str] = typer.Option(None, "--loss", help="sigmoid (DPO) or ipo."),
    method: Optional[str] = typer.Option(None, "--method", help="lora or full."),
    beta: Optional[float] = typer.Option(None, "--beta", min=0.0, help="Pull back to the reference."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1),
    train: Optional[Path] = typer.Option(None, "--train", help="Preference JSONL (default: dpo.train)."),
    model: Optional[str] = typer.Option(None, "--model", help="Start from this model (default: configs/model.yaml)."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue this interrupted align run."),
    config: Optional[Path] = typer.Option(None, "--config", help="Default: configs/align.yaml."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Preference-tune with DPO or IPO (LoRA or full) into an `align` run."""
    from lifecycle.align.dpo import DPORequest, TRL_ONLY, align_dpo
    from lifecycle.project import Project

    for value, allowed, hint in ((loss, ("sigmoid", "ipo", *TRL_ONLY), "--loss"), (method, ("lora", "full", *TRL_ONLY),
                                                                                   "--method")):
        if value is not None and value not in allowed:
            from lifecycle.errors import did_you_mean

            raise typer.BadParameter(did_you_mean(value, allowed[:2]), param_hint=hint)
    project = Project.find(project_dir)
    run = align_dpo(project, DPORequest(loss=loss, method=method, beta=beta, max_steps=max_steps, train=train,
                                        model=model, resume=resume, config=config, argv=_argv()), echo=typer.echo)
    typer.echo(f"run folder: {run.path}")


@align_app.command("reward", epilog="Examples:\n\n"
                   "  lifecycle align reward                         # train.jsonl -> model; heldout.jsonl -> accuracy\n\n"
                   "  lifecycle align reward --model models/deberta-small --epochs 2")
def reward_cmd(
    model: Optional[str] = typer.Option(None, "--model", help="Base of the reward model (default: configs/model.yaml)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", min=1),
    config: Optional[Path] = typer.Option(None, "--config", help="Default: configs/align.yaml."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """A Bradley-Terry reward model on the preference pairs, with held-out pairwise accuracy and its CI."""
    from lifecycle.align.reward import train_reward
    from lifecycle.project import Project

    project = Project.find(project_dir)
    run, acc = train_reward(project, model=model, epochs=epochs, config=config, argv=_argv(), echo=typer.echo)
    typer.echo(f"run folder: {run.path}")


@align_app.command("eval", epilog="Examples:\n\n"
                   "  lifecycle align eval ALIGN_RUN --reward-run RM_RUN\n\n"
                   "  lifecycle align eval ALIGN_RUN --oracle my_project.judges:score   # (prompt, output) -> float\n\n"
                   "A win is 1, a tie 0.5; the 95% interval is a bootstrap over held-out prompts.")
def eval_cmd(
    run: str = typer.Argument(..., help="The align run (id, prefix or folder)."),
    reward_run: Optional[str] = typer.Option(None, "--reward-run", help="Judge with this reward-model run."),
    oracle: Optional[str] = typer.Option(None, "--oracle", help="Judge with module:function(prompt, output) -> score."),
    data: Optional[Path] = typer.Option(None, "--data", help="Held-out preference JSONL (default: eval.data)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1),
    config: Optional[Path] = typer.Option(None, "--config", help="Default: configs/align.yaml."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Win-rate of the aligned model against its reference on held-out prompts, with a 95% CI."""
    from lifecycle.align.winrate import evaluate_alignment
    from lifecycle.project import Project

    project = Project.find(project_dir)
    sys.path.insert(0, str(project.root))  # an oracle may live in the project (src/ or the root)
    sys.path.insert(0, str(project.root / "src"))
    evaluate_alignment(project, run, oracle=oracle, reward_run=reward_run, data=data, limit=limit, config=config,
                       argv=_argv(), echo=typer.echo)


@align_app.command("export", epilog="Examples:\n\n"
                   "  lifecycle align export --to trl             # exports/align-trl: dpo.yaml + data/; `trl dpo --config dpo.yaml`\n\n"
                   "  lifecycle align export --to axolotl         # `axolotl train dpo.yaml` (rl: dpo)\n\n"
                   "  lifecycle align export --to llama-factory   # `llamafactory-cli train dpo.yaml` (stage: dpo)\n\n"
                   "An earlier export is replaced only with --overwrite; any other folder never.")
def export_cmd(
    to: str = typer.Option(..., "--to", help="trl, axolotl or llama-factory."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder to write (default: exports/align-TOOL)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier export of this command."),
    config: Optional[Path] = typer.Option(None, "--config", help="Default: configs/align.yaml."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """The preference data and DPO settings as a TRL CLI, axolotl or LLaMA-Factory config."""
    from lifecycle.align.export import export_alignment
    from lifecycle.project import Project

    export_alignment(Project.find(project_dir), to, out=out, overwrite=overwrite, config=config, echo=typer.echo)
