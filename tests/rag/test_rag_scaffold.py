"""The scaffold ships RAG for every task: data/docs, data/rag/qa.jsonl, configs/rag.yaml (off by
default), the retrieval hooks in src/<package>/retrieval.py that the tool calls, and their test."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lifecycle.tasks import TASKS

SPREAD = "Varrowmere island Sable Sea Ostrel Harbour founded cartographer population kelp glass lighthouse copper"


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    from lifecycle.scaffold.answers import Answers
    from lifecycle.scaffold.render import NewProject, render_project

    root = tmp_path_factory.mktemp("rag-projects")
    out = {}
    for task in TASKS:
        a = Answers(name=f"r-{task}".replace("_", "-"), use_case=f"A {task} assistant", task=task)
        out[task] = render_project(NewProject(answers=a, target=root / a.name)).target
    return out


@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_renders_the_rag_files_and_they_validate(projects, task):
    from lifecycle.checks.validate import validate_project
    from lifecycle.config.rag import RagConfig
    from lifecycle.config.yaml_io import load_config
    from lifecycle.project import Project
    from lifecycle.rag.qa import load_qa

    root = projects[task]
    package = Project(root).manifest.project.package
    cfg = load_config(root / "configs" / "rag.yaml", RagConfig)
    assert cfg.enabled is False and cfg.hooks.rewrite_query == f"{package}.retrieval:rewrite_query"
    assert (root / "configs" / "rag.yaml").read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=../.lifecycle/schemas/rag.schema.json\n# Used by: lifecycle rag index")
    assert (root / ".lifecycle" / "schemas" / "rag.schema.json").is_file()
    qa = load_qa(root / cfg.eval.qa, None)
    assert len(qa) >= 20 and sum(not q.answerable for q in qa) >= 5
    assert len(list((root / "data" / "docs").iterdir())) >= 5
    assert (root / "src" / package / "retrieval.py").is_file()
    assert validate_project(root).ok
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_retrieval.py"],
                       cwd=root, capture_output=True, text=True, timeout=300,
                       env={"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_hooks_run_on_query_and_only_the_projects_package_is_loaded(projects, tmp_path):
    from lifecycle.errors import ConfigError
    from lifecycle.project import Project
    from lifecycle.rag.index import build_index
    from lifecycle.rag.project import rag_setup

    root = projects["question_answering"]
    s = rag_setup(Project(root))
    build_index(s.docs_dir, s.index_dir, s.cfg, tokenizer_ref=None)
    retriever = s.retriever()
    # the hook drops "Could you tell me": same hits as the bare question
    polite = retriever.search("Could you tell me who founded Ostrel Harbour?", 5, "bm25")
    bare = type(retriever)(s.index_dir, s.cfg).search("who founded Ostrel Harbour?", 5, "bm25")
    assert [h.id for h in polite] == [h.id for h in bare] and polite[0].chunk["doc_id"] == "varrowmere.md"
    # filter_chunks caps chunks per document (MAX_PER_DOCUMENT = 2): small chunks, many per document
    small = s.cfg.model_copy(update={"chunk": s.cfg.chunk.model_copy(update={"size": 16, "overlap": 4}),
                                     "index_dir": str(tmp_path / "small")})
    build_index(s.docs_dir, tmp_path / "small", small, tokenizer_ref=None)
    unfiltered = [h.chunk["doc_id"] for h in type(retriever)(tmp_path / "small", small).search(SPREAD, 10, "bm25")]
    hits = type(retriever)(tmp_path / "small", small, hooks=retriever.hooks).search(SPREAD, 10, "bm25")
    docs = [h.chunk["doc_id"] for h in hits]
    assert unfiltered.count("varrowmere.md") > 2 and docs.count("varrowmere.md") == 2
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    for ref, why in (("os:system", "outside the project's package"), ("nope", "is not an import path of the form package.module:function")):
        s.cfg = s.cfg.model_copy(update={"hooks": s.cfg.hooks.model_copy(update={"rewrite_query": ref})})
        with pytest.raises(ConfigError, match=why):
            s.retriever()
