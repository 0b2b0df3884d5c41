"""A question-answering project with the sample documents and QA set installed."""

from __future__ import annotations

import pytest


@pytest.fixture
def rag_project(make_project):
    from lifecycle.project import Project
    from lifecycle.rag.project import install_samples, rag_setup

    root = make_project("question_answering")
    install_samples(rag_setup(Project(root)))
    return root


@pytest.fixture
def indexed_project(make_project, setup_of):
    """indexed_project(model) -> a question-answering project with the sample docs, indexed."""
    def make(model):
        from lifecycle.project import Project
        from lifecycle.rag.index import build_index
        from lifecycle.rag.project import install_samples, rag_setup

        root = make_project("question_answering", model=model)
        install_samples(rag_setup(Project(root)))
        s = setup_of(root)
        build_index(s.docs_dir, s.index_dir, s.cfg, tokenizer_ref=s.tokenizer_ref())
        return root

    return make


@pytest.fixture
def setup_of():
    def get(root, **updates):
        from lifecycle.project import Project
        from lifecycle.rag.project import rag_setup

        s = rag_setup(Project(root))
        if updates:
            s.cfg = s.cfg.model_validate({**s.cfg.model_dump(), **updates})
        return s

    return get


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Tiny models are latency-bound: on a shared machine OpenMP threads spin-wait for each other."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
