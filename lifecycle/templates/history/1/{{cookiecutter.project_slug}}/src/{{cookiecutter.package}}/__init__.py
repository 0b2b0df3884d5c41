{%- set p = project(cookiecutter) -%}
"""{{ p.manifest.project.name }}: the team's own code for a {{ p.task }} project.

data.py     load and validate JSONL examples
prompts.py  turn an example into a prompt (the place to change prompt formatting)
metrics.py  a custom metric, next to the built-in suite in configs/eval.yaml
"""
