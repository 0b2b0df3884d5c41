"""Safe YAML: located errors for every kind of bad input, nothing executed, edits keep comments."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from lifecycle.config.yaml_io import (
    MAX_YAML_BYTES, atomic_write_text, dump_yaml, load_config, load_yaml, parse_yaml, update_yaml,
)
from lifecycle.errors import ConfigError


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    inner: Inner
    tags: list[str] = []


def _write(tmp_path, text, name="c.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_valid_file_loads_with_key_lines(tmp_path):
    p = _write(tmp_path, "# c\nname: a\ninner:\n  size: 3\ntags:\n  - x\n  - y\n")
    loaded = load_yaml(p)
    assert loaded.data == {"name": "a", "inner": {"size": 3}, "tags": ["x", "y"]}
    assert loaded.line_of(("inner", "size")) == 4
    assert loaded.line_of(("tags", 1)) == 7
    assert loaded.line_of(("inner", "missing")) == 3  # deepest known prefix
    assert load_config(p, Outer).inner.size == 3


def test_syntax_error_is_located(tmp_path):
    p = _write(tmp_path, "name: a\ninner:\n  size: [1, 2\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}:") and "YAML syntax error" in msg
    assert ":4:" in msg or ":3:" in msg


def test_duplicate_key_names_both_lines(tmp_path):
    p = _write(tmp_path, "name: a\ninner:\n  size: 1\n  size: 2\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml(p)
    assert str(exc.value) == f"{p}:4: inner.size: duplicate key (first defined on line 3)"


def test_python_object_tag_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    p = _write(tmp_path, f"name: !!python/object/apply:os.system ['touch {marker}']\ninner: {{size: 1}}\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml(p)
    assert f"{p}:1:" in str(exc.value) and "python/object" in str(exc.value)
    assert not marker.exists()


def test_alias_bomb_is_refused_before_expansion(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    p = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml(p)
    assert f"{p}:1:" in str(exc.value) and "anchors and aliases" in str(exc.value)


def test_oversized_file_is_refused(tmp_path):
    p = _write(tmp_path, "name: " + "x" * (MAX_YAML_BYTES + 10) + "\n")
    with pytest.raises(ConfigError, match="larger than"):
        load_yaml(p)


def test_not_utf8_and_missing_file(tmp_path):
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_yaml(p)
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")


def test_all_validation_errors_at_once_with_lines(tmp_path):
    p = _write(tmp_path, "name: a\ninner:\n  size: big\n  colour: red\ntags: 3\nextra: 1\n")
    with pytest.raises(ConfigError) as exc:
        load_config(p, Outer)
    problems = exc.value.problems
    assert len(problems) == 4
    assert any(q.startswith(f"{p}:3: inner.size: Input should be a valid integer") for q in problems)
    assert f"{p}:4: inner.colour: unknown key (remove it or check its spelling)" in problems
    assert any(q.startswith(f"{p}:5: tags:") for q in problems)
    assert f"{p}:6: extra: unknown key (remove it or check its spelling)" in problems


def test_not_a_mapping(tmp_path):
    p = _write(tmp_path, "- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(p, Outer)


def test_update_yaml_keeps_comments_and_order(tmp_path):
    text = ("# top comment\nname: a   # trailing\n# about inner\ninner:\n  size: 1\n"
            "tags:\n  - x\nzeta: last\n")
    p = _write(tmp_path, text)
    update_yaml(p, {("inner", "size"): 5, ("name",): "b", ("new", "deep"): True})
    out = p.read_text(encoding="utf-8")
    assert out.startswith("# top comment\nname: b   # trailing\n# about inner\ninner:\n  size: 5\n")
    assert out.index("tags:") < out.index("zeta: last") < out.index("new:")
    assert parse_yaml(out).data["new"] == {"deep": True}


def test_update_yaml_refuses_unsafe_input_without_writing(tmp_path):
    p = _write(tmp_path, "a: 1\na: 2\n")
    with pytest.raises(ConfigError, match="duplicate key"):
        update_yaml(p, {("a",): 3})
    assert p.read_text(encoding="utf-8") == "a: 1\na: 2\n"


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "f.yaml"
    atomic_write_text(target, dump_yaml({"k": [1, 2], "u": "é"}))
    assert parse_yaml(target.read_text(encoding="utf-8")).data == {"k": [1, 2], "u": "é"}
    assert [p.name for p in target.parent.iterdir()] == ["f.yaml"]
