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
