"""Text from files shown on a terminal: control characters are escaped, never obeyed."""

from __future__ import annotations

import json

from hostile_helpers import FIXTURES

ESC = "\x1b]0;owned\x07\x1b[2J\rfake PASS\x08\u202e"


def test_printable_escapes_controls_and_keeps_text():
    from lifecycle.text_safety import printable

    assert printable("a\x1b[31mred\x07\r\nb\tc\u202e") == "a\\x1b[31mred\\x07\\r\nb\tc\\u202e"
    assert printable("line\nnext", newlines=False) == "line\\nnext"
    assert printable("ünï ✓ 中文") == "ünï ✓ 中文"


def _hostile_project(tmp_path, tiny_t5):
    from lifecycle.testing.project import write_project

    root = write_project(tmp_path / "p", "summarization", str(tiny_t5), FIXTURES / "summarization.jsonl")
    sample = root / "data" / "sample.jsonl"
    rows = [json.loads(line) for line in sample.read_text().splitlines()]
    rows[0]["dialogue"] = "#Person1#: hi " + ESC
    rows[0]["summary"] = "[bold red]markup[/] " + ESC
    sample.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def test_prompt_render_and_generate_show_escapes(cli, tmp_path, tiny_t5):
    root = _hostile_project(tmp_path, tiny_t5)
    code, out, err = cli("prompt", "render", "--project", root)
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert "\\x1b]0;owned\\x07" in out
    code, out, err = cli("generate", "--limit", "1", "--no-progress", "--project", root)
    assert code == 0, err
    assert "\x1b" not in out and "\\x1b" in out and "[bold red]markup[/]" in out


def test_check_replays_a_hostile_note_escaped(cli, project):
    code, _out, err = cli("check", "--attest", "integrate.signoff", "--note", "ok " + ESC, "--override", "x", "--project", project)
    assert code == 0, err
    code, out, err = cli("check", "integrate", "--project", project)
    assert "\x1b" not in out + err and "\x07" not in out + err and "owned" in out


def test_error_lines_escape_what_they_quote(cli, project):
    sample = project / "data" / "sample.jsonl"
    sample.write_text(json.dumps({"id": "s1", "dialogue": "x", ESC: "y"}) + "\n")
    code, _out, err = cli("eval", "run", "--project", project)
    assert code != 0 and "\x1b" not in err and "\\x1b" in err
