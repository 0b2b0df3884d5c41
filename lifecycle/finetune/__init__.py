"""Fine-tuning: the project's prompt -> training examples -> Trainer + peft -> run folder -> eval.

    examples.py     records -> prompt (the prompting package, K=0) -> tokenized features, length checks
    methods.py      full / lora / prompt_tuning / ia3 / qlora: family support, target modules, peft
    training.py     one training job (Seq2SeqTrainer or Trainer), checkpoint-safe saving
    checkpoints.py  which checkpoint is complete (for --resume after SIGKILL)
    runs.py         finetune run folders, fingerprints that guard --resume
    pipeline.py     `lifecycle finetune`: create/resume, train (or accelerate launch), record, evaluate
    evaluation.py   eval run of the tuned model + paired comparison with the zero-shot baseline
    tuned.py        load a run's tuned model; merge.py: `lifecycle finetune merge`
    resources.py    mixed precision from the hardware, memory estimate and measured peak
    plots.py        loss curve

Nothing heavy is imported here: torch, transformers and peft load inside the functions that use them."""
