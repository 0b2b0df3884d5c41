"""Issue 14's bad input, through the real CLI entry point: each problem is one located line on
stderr (no traceback), exit code non-zero; symlinks that leave data/docs (or lead nowhere) are not
followed."""

from __future__ import annotations

import json

import yaml


def _rag_yaml(root, **updates):
    path = root / "configs" / "rag.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    cfg.update(updates)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")


def _one_line_each(err: str, needles: list[str]) -> None:
    assert "Traceback" not in err
    lines = err.splitlines()
    for needle in needles:
        assert sum(needle in line for line in lines) == 1, (needle, err)


def test_bad_documents_by_the_cli(rag_project, cli):
    docs = rag_project / "data" / "docs"
    (docs / "blob.txt").write_bytes(b"abc\x00\x01\x02")
    (docs / "latin.md").write_bytes(b"ok\nna\xefve")
    (docs / "dupes.jsonl").write_text(json.dumps({"id": "glimmerline", "text": "again"}) + "\n", encoding="utf-8")
    code, _, err = cli("rag", "index", "--project", rag_project)
    assert code != 0
    _one_line_each(err, ["blob.txt: binary file (NUL byte at offset 3)", "latin.md:2: not UTF-8 text",
                         "duplicate document id 'glimmerline'"])


def test_big_document_by_the_cli(rag_project, cli):
    with (rag_project / "data" / "docs" / "big.txt").open("wb") as fh:  # sparse: 50 MB without writing it
        fh.seek(50 * 1024 * 1024)
        fh.write(b"x")
    code, _, err = cli("rag", "index", "--project", rag_project)
    assert code != 0
    _one_line_each(err, ["big.txt: 52.4 MB is over the limit of 10.0 MB"])


def test_queries_of_0_and_100k_characters(rag_project, cli):
    assert cli("rag", "index", "--project", rag_project)[0] == 0
    for query, needle in (("", "the query is empty"), ("x" * 100_000, "the query has 100,000 characters")):
        code, out, err = cli("rag", "query", query, "--project", rag_project)
        assert code != 0 and out == ""
        _one_line_each(err, [needle])


def test_stale_index_and_missing_encoder_offline(rag_project, cli):
    assert cli("rag", "index", "--project", rag_project)[0] == 0
    (rag_project / "data" / "docs" / "festival.txt").write_text("changed", encoding="utf-8")
    code, _, err = cli("rag", "query", "lanterns", "--project", rag_project)
    assert code != 0
    _one_line_each(err, ["index is stale"])
    _rag_yaml(rag_project, embedding={"model": "nobody/no-such-encoder"})
    code, _, err = cli("rag", "index", "--project", rag_project)
    assert code != 0
    _one_line_each(err, ["not a local folder and the hub is offline"])


def test_broken_and_looping_symlinks_are_skipped_with_a_warning(rag_project, cli, tmp_path):
    docs = rag_project / "data" / "docs"
    (docs / "a.txt").symlink_to(docs / "b.txt")
    (docs / "b.txt").symlink_to(docs / "a.txt")
    (docs / "dangling.md").symlink_to(tmp_path / "gone.md")
    (docs / "up.txt").symlink_to("../../lifecycle.yaml")  # relative, out of data/docs
    code, out, err = cli("rag", "index", "--project", rag_project)
    assert code == 0, err
    for name in ("a.txt", "b.txt", "dangling.md"):
        assert f"{name}: broken or looping symlink: skipped" in err
    assert "up.txt: symlink to" in err and "not followed" in err
    assert "indexed 10 documents" in out


def test_a_100k_question_in_a_data_file_names_the_example(rag_project, cli):
    from lifecycle.project import Project
    from lifecycle.rag.augment import augment_dataset
    from lifecycle.rag.retrieve import QueryError

    assert cli("rag", "index", "--project", rag_project)[0] == 0
    qa = rag_project / "data" / "rag" / "qa.jsonl"
    rows = [json.loads(line) for line in qa.read_text(encoding="utf-8").splitlines()]
    rows[1]["question"] = "why " * 25_000
    qa.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, _, err = cli("rag", "eval", "--project", rag_project)
    assert code != 0
    _one_line_each(err, [f"{qa}: example {rows[1]['id']}: the query has 100,000 characters"])

    data = rag_project / "data" / "long.jsonl"
    data.write_text(json.dumps({"id": "l1", "context": "-", "question": "x" * 100_000, "answer": "y"}) + "\n",
                    encoding="utf-8")
    import pytest

    with pytest.raises(QueryError, match=r"long\.jsonl: 'question': example l1: the query has 100,000 characters"):
        augment_dataset(Project(rag_project), data=data)
