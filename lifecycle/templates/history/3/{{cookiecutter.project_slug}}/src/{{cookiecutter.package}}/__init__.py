{%- set p = project(cookiecutter) -%}
"""{{ p.manifest.project.name }}: the team's own code for a {{ p.task }} project. The tool calls it.

data.py       load and validate examples in your own scripts
prompts.py    `prepare`: cleans each example before the prompt is built (configs/prompt.yaml preprocess)
metrics.py    custom metrics, scored by `lifecycle eval run` next to the built-in suite (configs/eval.yaml)
retrieval.py  retrieval hooks: rewrite the query, filter chunks (configs/rag.yaml hooks)
"""
