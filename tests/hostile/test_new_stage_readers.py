"""Hostile bytes in the files of the align, RAG and tools stages: real bytes on disk, the real CLI,
one `error:` line naming file:line, non-zero exit, no traceback. The data is read before any model
is loaded, so the projects' hub ids are never touched."""

from __future__ import annotations

import json

from hostile_helpers import one_error


def _jsonl(path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _pairs_run(root) -> list[dict]:
    """A complete pairs run, as `lifecycle align pairs` leaves it."""
    from lifecycle.runs.store import RunStore

    run = RunStore(root / "runs").create("pairs", config={})
    pairs = [{"pair_id": f"{run.id}/p{i}/{i}", "prompt_id": f"p{i}", "prompt": f"prompt {i}",
              "a": f"first {i}", "b": f"second {i}"} for i in range(4)]
    _jsonl(run.path / "pairs.jsonl", pairs)
    run.finish("complete", pairs=len(pairs))
    return pairs


def test_judgments_non_utf8_byte(cli, project):
    pairs = _pairs_run(project)
    judgments = project / "data" / "preferences" / "judgments.jsonl"
    _jsonl(judgments, [{"pair_id": p["pair_id"], "annotator": "alice", "choice": "a"} for p in pairs])
    lines = judgments.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"alice", b"al\xe9ce")  # Latin-1 é
    judgments.write_bytes(b"\n".join(lines))
    code, _out, err = cli("align", "data", "--project", project)
    line = one_error(err)
    assert code != 0
    assert f"{judgments}:3: not UTF-8 (byte 0xe9 at column" in line, line
    assert not (project / "data" / "preferences" / "train.jsonl").exists()


def test_judgments_torn_tail_is_located_too(cli, project):
    """A last line cut inside a multi-byte character (strict reading: `align data`) is located."""
    pairs = _pairs_run(project)
    judgments = project / "data" / "preferences" / "judgments.jsonl"
    _jsonl(judgments, [{"pair_id": p["pair_id"], "annotator": "zoë", "choice": "b"} for p in pairs[:2]])
    judgments.write_bytes(judgments.read_bytes() + '{"pair_id": "x", "annotator": "zoë'.encode()[:-1])
    code, _out, err = cli("align", "data", "--project", project)
    line = one_error(err)
    assert code != 0 and f"{judgments}:3: " in line and "multi-byte character is cut off" in line, line


def test_preferences_wrong_json_type(cli, project):
    prefs = project / "data" / "preferences"
    _jsonl(prefs / "train.jsonl", [{"prompt": "p", "chosen": "x", "rejected": "y"},
                                   {"prompt": {"text": "p"}, "chosen": "x", "rejected": "y"}])
    _jsonl(prefs / "heldout.jsonl", [{"prompt": "q", "chosen": "x", "rejected": "y"}])
    code, _out, err = cli("align", "reward", "--project", project)
    line = one_error(err)
    assert code != 0
    assert f"{prefs / 'train.jsonl'}:2: prompt: a dict, not a string" in line, line


def test_preferences_nan_and_bad_bytes(cli, project):
    prefs = project / "data" / "preferences"
    _jsonl(prefs / "train.jsonl", [{"prompt": "p", "chosen": "x", "rejected": "y"}])
    (prefs / "heldout.jsonl").write_bytes(b'{"prompt": "q", "chosen": "x", "rejected": "y"}\n'
                                          b'{"prompt": "q", "chosen": NaN, "rejected": "y"}\n')
    code, _out, err = cli("align", "reward", "--project", project)
    line = one_error(err)
    assert code != 0 and f"{prefs / 'heldout.jsonl'}:2: not valid JSON (NaN is not valid JSON)" in line, line


def _rag_project(make_project):
    from lifecycle.project import Project
    from lifecycle.rag.project import install_samples, rag_setup

    root = make_project("question_answering", name="ragproj")
    setup = rag_setup(Project(root))
    install_samples(setup)
    return root, setup


def test_rag_qa_non_utf8_byte(cli, make_project):
    root, setup = _rag_project(make_project)
    code, _out, err = cli("rag", "index", "--project", root)
    assert code == 0, err
    lines = setup.qa_path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"question": "', b'"question": "\xff', 1)
    setup.qa_path.write_bytes(b"\n".join(lines))
    code, _out, err = cli("rag", "eval", "--project", root)
    line = one_error(err)
    assert code != 0 and f"{setup.qa_path}:2: not UTF-8 (byte 0xff at column" in line, line


def test_rag_qa_wrong_type(cli, make_project):
    root, setup = _rag_project(make_project)
    assert cli("rag", "index", "--project", root)[0] == 0
    lines = setup.qa_path.read_text(encoding="utf-8").split("\n")
    row = json.loads(lines[0])
    row["gold"] = "not-a-list"
    lines[0] = json.dumps(row)
    setup.qa_path.write_text("\n".join(lines), encoding="utf-8")
    code, _out, err = cli("rag", "eval", "--project", root)
    line = one_error(err)
    assert code != 0 and f"{setup.qa_path}:1: gold: must be a list" in line, line


def test_rag_document_bad_byte_and_bad_id(cli, make_project):
    root, setup = _rag_project(make_project)
    doc = setup.docs_dir / "extra.jsonl"
    doc.write_bytes(b'{"id": "e1", "text": "fine"}\n{"id": "e2", "text": "caf\xe9"}\n')
    code, _out, err = cli("rag", "index", "--project", root)
    line = one_error(err)
    assert code != 0 and f"{doc}:2: not UTF-8 text (byte 0xe9" in line, line
    doc.write_bytes(b'{"id": "e1", "text": "fine"}\n{"id": ["e2"], "text": "list id"}\n')
    code, _out, err = cli("rag", "index", "--project", root)
    line = one_error(err)
    assert code != 0 and f"{doc}:2: id: must be text or an integer, got a list" in line, line


def test_tools_arith_set_bad_bytes_and_types(cli, project):
    arith = project / "data" / "tools" / "arith.jsonl"
    arith.parent.mkdir(parents=True)
    arith.write_bytes(b'{"id": 1, "question": "2+2?", "answer": "4"}\n{"id": 2, "question": "3\xff", "answer": "3"}\n')
    code, _out, err = cli("tools", "eval", "--project", project)
    line = one_error(err)
    assert code != 0 and f"{arith}:2: not UTF-8 (byte 0xff" in line, line
    arith.write_text('{"id": 1, "question": ["2+2?"], "answer": "4"}\n', encoding="utf-8")
    code, _out, err = cli("tools", "eval", "--project", project)
    line = one_error(err)
    assert code != 0 and f"{arith}:1: question: must be text, got a list" in line, line
