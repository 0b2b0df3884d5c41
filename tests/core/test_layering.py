"""Layering, read from the AST of every module under lifecycle/ (imports inside functions count):
core never imports a stage or the CLI, no stage imports the CLI, and no two packages import each
other. KNOWN lists tolerated arrows with the move that removes them (none are left); the test
fails on any new one, and on a listed one that is gone (so the list only shrinks)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "lifecycle"
# The core layer: facts, files and records every stage shares.
CORE = {"__init__", "errors", "locking", "outputs", "textio", "paths", "text_safety", "units", "config", "runs",
        "manifest", "tasks", "cache", "project", "data", "schemas", "methods", "hooks", "artifacts", "hashing",
        "normalize", "prompt_template", "loading", "reporting"}
# Tools for tests and smoke runs may build anything; the entry module exists to call the CLI.
EXEMPT = {"testing", "__main__"}
# Package data, not modules: the project template's .py files are Jinja sources.
DATA = {"templates"}
KNOWN: dict[tuple[str, str], str] = {}


def _edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        src = parts[0]
        if src in DATA:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                bits = name.split(".")
                if bits[0] == "lifecycle" and len(bits) > 1 and bits[1] != src:
                    edges.setdefault((src, bits[1]), []).append(str(path.relative_to(PACKAGE.parent)))
    return edges


def _violations() -> dict[tuple[str, str], list[str]]:
    bad = {}
    edges = _edges()
    for (src, dst), where in edges.items():
        if src in EXEMPT:
            continue
        upward = (src in CORE and dst not in CORE) or (dst == "cli" and src != "cli")
        # between two stages or two core packages (a core <-> stage cycle is already an upward import)
        cycle = (dst, src) in edges and dst not in EXEMPT and (src in CORE) == (dst in CORE)
        if upward or cycle:
            bad[(src, dst)] = where
    return bad


def test_no_new_upward_imports_or_package_cycles():
    new = {edge: where for edge, where in _violations().items() if edge not in KNOWN}
    assert not new, "imports that run upward or close a cycle: " + "; ".join(
        f"{a} -> {b} ({', '.join(sorted(set(w)))})" for (a, b), w in sorted(new.items()))


def test_the_known_list_only_shrinks():
    gone = sorted(set(KNOWN) - set(_violations()))
    assert not gone, f"fixed, now remove from KNOWN: {gone}"


def test_no_cli_module_imports_the_composition_root():
    for path in (PACKAGE / "cli").glob("*.py"):
        if path.name == "main.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert "lifecycle.cli.main" not in names, path.name
