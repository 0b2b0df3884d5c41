"""Thin typer apps, one module per command group: parse -> call the library -> print.

Nothing here imports torch/transformers/peft/evaluate/cookiecutter at module level, so that
`lifecycle --help` and `lifecycle new` stay fast (a test asserts it)."""
