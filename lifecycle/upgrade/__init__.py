"""`lifecycle upgrade`: take a newer project template into an existing project, keeping every edit.

base = the project's recorded template version rendered with its recorded answers,
theirs = the target version rendered with the same answers, ours = the working tree.
history.py finds the shipped versions, merge.py does the three-way text merge (git merge-file, or
merge3 without git), migrations.py upgrades lifecycle.yaml's schema_version step by step, and
plan.py decides per file and applies.
"""
