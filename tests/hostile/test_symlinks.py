"""Symlinks inside data/ and runs/ that leave the project are refused, for reading and writing."""

from __future__ import annotations

import json

import pytest

from hostile_helpers import one_error


@pytest.fixture
def outside(tmp_path):
    d = tmp_path / "outside"
    d.mkdir()
    return d


def test_data_symlink_out_of_the_project_is_refused(cli, project, outside):
    secret = outside / "secret.jsonl"
    secret.write_text(json.dumps({"id": "x", "dialogue": "private", "summary": "private"}) + "\n")
    sample = project / "data" / "sample.jsonl"
    sample.unlink()
    sample.symlink_to(secret)
    for args in (["prompt", "render"], ["generate", "--no-progress"], ["eval", "run"]):
        code, out, err = cli(*args, "--project", project)
        line = one_error(err)
        assert code != 0 and "symlink that leads outside" in line and f"{sample}" in line, (args, err)
        assert "private" not in out


def test_a_link_inside_the_project_is_fine_and_an_explicit_outside_path_too(project, outside):
    from lifecycle.data import load_jsonl

    sample = project / "data" / "sample.jsonl"
    (project / "data" / "alias.jsonl").symlink_to(sample)
    assert len(load_jsonl(project / "data" / "alias.jsonl")) == 8
    real = outside / "named.jsonl"  # a path the user names outside the project is their choice
    real.write_bytes(sample.read_bytes())
    assert len(load_jsonl(real)) == 8


def test_a_linked_data_folder_is_refused(project, outside):
    from lifecycle.data import load_jsonl
    from lifecycle.paths import UnsafePathError

    (outside / "sample.jsonl").write_bytes((project / "data" / "sample.jsonl").read_bytes())
    (project / "data2").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePathError, match=r"data2 -> "):
        load_jsonl(project / "data2" / "sample.jsonl")


def test_predictions_symlink_is_never_read_or_written_through(cli, tmp_path, outside, tiny_t5):
    from lifecycle.runs.store import RunStore
    from lifecycle.testing.project import write_project

    from hostile_helpers import FIXTURES

    project = write_project(tmp_path / "gen", "summarization", str(tiny_t5), FIXTURES / "summarization.jsonl")
    code, _out, err = cli("generate", "--limit", "2", "--no-progress", "--show", "0", "--project", project)
    assert code == 0, err
    run = RunStore(project / "runs").list(kind="generate")[-1]
    run.write_meta({**run.meta, "status": "interrupted"})  # as a kill leaves it
    victim = outside / "victim.jsonl"
    victim.write_bytes(b'{"id": "s1", "prediction": "keep me"}\n{"id": "s2", "predic')  # no newline: "torn"
    before = victim.read_bytes()
    run.predictions_path.unlink()
    run.predictions_path.symlink_to(victim)
    code, _out, err = cli("generate", "--resume", run.id, "--no-progress", "--project", project)
    assert code != 0 and "symlink that leads outside" in one_error(err), err
    assert victim.read_bytes() == before


def test_safe_path_for_write_refuses_any_link(project):
    from lifecycle.paths import UnsafePathError, safe_path

    target = project / "runs" / "a.txt"
    target.write_text("x")
    link = project / "runs" / "b.txt"
    link.symlink_to(target)
    assert safe_path(link, project) == link  # reading through a link that stays inside is fine
    with pytest.raises(UnsafePathError, match="refusing to write through it"):
        safe_path(link, project, for_write=True)
    assert safe_path(project / "runs" / "new.txt", project, for_write=True) == project / "runs" / "new.txt"
