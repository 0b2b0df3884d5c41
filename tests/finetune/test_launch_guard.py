"""The launcher guard of `lifecycle finetune`, as a library call: it refuses before any run folder exists."""

from __future__ import annotations

import pytest

from lifecycle.errors import FinetuneError
from lifecycle.finetune.pipeline import FinetuneRequest, check_launch
from lifecycle.project import Project


@pytest.fixture
def project(make_project):
    root = make_project()
    (root / "configs" / "accelerate").mkdir(parents=True, exist_ok=True)
    (root / "configs" / "accelerate" / "two.yaml").write_text("num_processes: 2\n", encoding="utf-8")
    return Project.find(root)


def test_started_by_a_launcher_directly_is_refused(project):
    with pytest.raises(FinetuneError, match="started by a distributed launcher directly") as err:
        check_launch(project, FinetuneRequest(), environ={"WORLD_SIZE": "2", "RANK": "1"})
    assert "--launch accelerate" in err.value.hint
    assert check_launch(project, FinetuneRequest(), environ={"WORLD_SIZE": "1"}) is None
    assert check_launch(project, FinetuneRequest(), environ={}) is None


def test_launch_requests_that_cannot_start(project):
    with pytest.raises(FinetuneError, match="--config-file is for --launch accelerate"):
        check_launch(project, FinetuneRequest(config_file="configs/accelerate/two.yaml"), environ={})
    with pytest.raises(FinetuneError, match="unknown launcher 'torchrun'"):
        check_launch(project, FinetuneRequest(launch="torchrun"), environ={})
    with pytest.raises(FinetuneError, match="needs --config-file"):
        check_launch(project, FinetuneRequest(launch="accelerate"), environ={})
    with pytest.raises(FinetuneError, match="does not exist"):
        check_launch(project, FinetuneRequest(launch="accelerate", config_file="configs/accelerate/no.yaml"),
                     environ={})


def test_a_valid_launch_resolves_the_config_against_the_project(project):
    req = FinetuneRequest(launch="accelerate", config_file="configs/accelerate/two.yaml")
    assert check_launch(project, req, environ={}) == project.root / "configs" / "accelerate" / "two.yaml"
