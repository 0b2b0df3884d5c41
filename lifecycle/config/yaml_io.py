"""Safe YAML in and out.

Loading: size cap, no anchors/aliases (no alias bombs), duplicate keys rejected, only the safe tags
(`!!python/object` is refused, never constructed), and every problem reported as `file:line: field`.
Validation: a pydantic model is checked and *all* its errors are reported at once, each located at
the line of the offending key. Editing: `update_yaml` rewrites values in place with ruamel.yaml so
the user's comments and key order survive.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

import yaml

from lifecycle.errors import ConfigError, located
from lifecycle.locking import locked
from lifecycle.paths import safe_path
from lifecycle.textio import MAX_DEPTH, MAX_YAML_BYTES, read_text
T = TypeVar("T")


class LoadedYaml:
    """Parsed data plus where each key path sits in the file, for located errors."""

    def __init__(self, data: Any, lines: dict[tuple, int], path: Path | None) -> None:
        self.data = data
        self.lines = lines
        self.path = path

    def line_of(self, loc: tuple) -> int | None:
        """Line of the deepest known prefix of `loc` (a pydantic error location)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)


def _walk(node: yaml.Node, path: tuple, lines: dict, where: Path | None) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(located(where, line, ".".join(map(str, path + (key,))),
                                          f"duplicate key (first defined on line {seen[key]})"))
            seen[key] = line
            lines[path + (key,)] = line
            _walk(value_node, path + (key,), lines, where)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), lines, where)


def _mark_line(err: yaml.MarkedYAMLError) -> int | None:
    mark = err.problem_mark or err.context_mark
    return mark.line + 1 if mark else None


def parse_yaml(text: str, path: str | Path | None = None) -> LoadedYaml:
    """Parse YAML text safely; raise ConfigError with file:line on any problem."""
    where = Path(path) if path else None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise ConfigError(located(where, None, None, f"file is larger than {MAX_YAML_BYTES} bytes"))
    try:
        # The event pass is iterative; the composer and constructor below recurse once per level,
        # so nesting is capped here, before they run (500 brackets would be a RecursionError).
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ConfigError(located(where, event.start_mark.line + 1, None,
                                          "YAML anchors and aliases are not allowed; write the value out"))
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ConfigError(located(where, event.start_mark.line + 1, None,
                                              f"nested deeper than {MAX_DEPTH} levels"))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        lines: dict[tuple, int] = {}
        if node is not None:
            _walk(node, (), lines, where)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as err:  # a control character: located by its offset
        line = text.count("\n", 0, err.position) + 1
        col = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        raise ConfigError(located(where, line, None, f"character #x{err.character:04x} at column {col} is not "
                                  "allowed in YAML (a control character)")) from None
    except yaml.constructor.ConstructorError as err:
        raise ConfigError(located(where, _mark_line(err), None,
                                  f"{err.problem} (only plain YAML values are allowed)")) from err
    except yaml.MarkedYAMLError as err:
        raise ConfigError(located(where, _mark_line(err), None, f"YAML syntax error: {err.problem}")) from err
    except yaml.YAMLError as err:
        raise ConfigError(located(where, None, None, f"YAML error: {str(err).splitlines()[0]}")) from err
    except RecursionError:  # belt and braces: the depth cap above should make this unreachable
        raise ConfigError(located(where, None, None, f"nested deeper than {MAX_DEPTH} levels")) from None
    return LoadedYaml(data, lines, where)


def load_yaml(path: str | Path) -> LoadedYaml:
    """Size cap before reading, strict UTF-8 (a BOM is accepted; a bad byte is named with its line
    and column), then `parse_yaml`. A file inside a project that is a symlink out of it is refused."""
    path = safe_path(Path(path), what="YAML file")
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    return parse_yaml(read_text(path, limit=MAX_YAML_BYTES, kind="YAML file", error=ConfigError), path)


def pydantic_problems(err, loaded: LoadedYaml | None, path: str | Path | None) -> list[str]:
    """Turn a pydantic ValidationError into located one-line problems."""
    problems = []
    for e in err.errors():
        loc = tuple(e.get("loc", ()))
        field = ".".join(str(p) for p in loc) or None
        line = loaded.line_of(loc) if loaded else None
        msg = e.get("msg", "invalid")
        if e.get("type") == "extra_forbidden":
            msg = "unknown key (remove it or check its spelling)"
        problems.append(located(path, line, field, msg))
    return problems


def validate_data(model: type[T], loaded: LoadedYaml, path: str | Path | None = None) -> T:
    from pydantic import ValidationError

    data = loaded.data if loaded.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(located(path or loaded.path, 1, None, "expected a mapping of keys to values"))
    try:
        return model.model_validate(data)  # type: ignore[attr-defined]
    except ValidationError as err:
        raise ConfigError(pydantic_problems(err, loaded, path or loaded.path)) from err


def load_config(path: str | Path, model: type[T]) -> T:
    """Load a YAML file and validate it against a pydantic model; all problems at once."""
    loaded = load_yaml(path)
    return validate_data(model, loaded, path)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write via a temporary file in the same folder, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


class _NoAliasDumper(yaml.SafeDumper):
    """Writes a value that appears twice (one dict in two fields of a run record) out twice: our
    own loader refuses anchors and aliases, so the tool must never write them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


def update_yaml(path: str | Path, updates: dict[tuple[str, ...], Any]) -> None:
    """Set values at key paths, keeping comments and key order (ruamel round-trip)."""
    from ruamel.yaml import YAML

    import io

    path = Path(path)
    with locked(path, what=str(path)):  # two `--apply`s at once: both edits land, in turn
        load_yaml(path)  # same safety checks and located errors as every other load
        rt = YAML()
        rt.preserve_quotes = True
        rt.width = 4096
        with path.open(encoding="utf-8") as fh:
            doc = rt.load(fh)
        for keys, value in updates.items():
            node = doc
            for key in keys[:-1]:
                if key not in node or node[key] is None:
                    node[key] = {}
                node = node[key]
            node[keys[-1]] = value
        buf = io.StringIO()
        rt.dump(doc, buf)
        atomic_write_text(path, buf.getvalue())
