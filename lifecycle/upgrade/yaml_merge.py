"""Three-way merge of a YAML mapping file by key path, keeping the user's comments, order and quoting.

Why not lines: a user edit and a template edit on neighbouring lines (a changed `use_case` next to
a key the template adds) are one hunk to a line merge, hence a false conflict. Here each key path
is merged on its own (ruamel round-trip documents; the user's file is the one written back):

    template did not change it               -> yours
    you did not change it                    -> the template's value (and its comment)
    both changed it, to the same value       -> yours
    both changed it, differently             -> conflict
    added by the template                    -> inserted after the key that precedes it in the template
    removed by the template                  -> removed if you never changed it, else kept and reported
    deleted by you, changed by the template  -> left deleted and reported

Mappings are merged key by key; lists and scalars are compared whole. Comments are merged the same
way, slot by slot (the comment ending a key's line, the lines after it). Anything this cannot do
faithfully (a file that is not a YAML mapping, a layout ruamel does not reproduce byte for byte, a
conflict) returns `text=None` with the reason, and the caller falls back to the line merge with
conflict markers, so nothing is ever dropped silently.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass, field
from typing import Any, Optional

# (mapping, sequence, offset) indentations tried, in order, until one reproduces the user's file.
_INDENTS = ((2, 2, 0), (2, 4, 2), (4, 4, 2), (4, 4, 0), (4, 2, 0))
_MISSING = object()


@dataclass
class YamlMerged:
    text: Optional[str]                              # None: not merged here (see `reason`)
    reason: str = ""                                 # why not, for the report
    conflicts: list[str] = field(default_factory=list)   # key paths changed differently on both sides
    kept: list[str] = field(default_factory=list)        # reported, not blocking the merge itself


class _Conflict(Exception):
    pass


def _yaml(indent: tuple[int, int, int]):
    from lifecycle.upgrade.migrations import _yaml as round_trip

    y = round_trip()
    y.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return y


def _dump(y, doc) -> str:
    out = io.StringIO()
    y.dump(doc, out)
    return out.getvalue()


def _load(text: str, what: str, indent=(2, 2, 0)):
    from ruamel.yaml.error import YAMLError

    try:
        doc = _yaml(indent).load(text)
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ValueError(f"{what} is not valid YAML{where}") from None
    if doc is None and not text.strip():
        return None
    if not isinstance(doc, dict):
        raise ValueError(f"{what} is not a YAML mapping")
    return doc


def yaml_problem(text: str) -> str:
    """'' when `text` reads as YAML (duplicate keys refused, unlike PyYAML), else what is wrong."""
    from ruamel.yaml.error import YAMLError

    try:
        _yaml(_INDENTS[0]).load(text)
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        return "is not valid YAML" + (f" (line {mark.line + 1}: {err.problem})" if mark is not None else "")
    return ""


def plain(node: Any) -> Any:
    """The data of a ruamel node without its formatting (ScalarFloat -> float, CommentedMap -> dict, ...)."""
    if isinstance(node, dict):
        return {plain(k): plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [plain(v) for v in node]
    for kind in (bool, int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node


def _tok(t) -> Any:
    """A comment slot as comparable text: a token, a list of tokens, or None."""
    if t is None:
        return None
    if isinstance(t, list):
        return tuple(_tok(x) for x in t)
    return getattr(t, "value", repr(t))


def _comments(node: Any) -> Any:
    """Every comment inside a node (for comparing lists and scalars whole, comments included)."""
    ca = getattr(node, "ca", None)
    own = None
    if ca is not None:
        own = (_tok(ca.comment), tuple(sorted((str(k), _tok(v)) for k, v in ca.items.items())), _tok(ca.end))
    if isinstance(node, dict):
        return own, tuple((str(k), _comments(v)) for k, v in node.items())
    if isinstance(node, list):
        return own, tuple(_comments(v) for v in node)
    return own


def _sig(node: Any) -> Any:
    return type(node).__name__, plain(node), _comments(node)


def _pick(o, b, t, path: str):
    """Three-way choice between comparable values: which side wins ('o' or 't')."""
    if t == b or o == t:
        return "o"
    if o == b:
        return "t"
    raise _Conflict(path)


# comment slots ------------------------------------------------------------------------------------

def _split(token) -> tuple[str, str]:
    """A key's line-end token -> (the comment on the line itself, the lines after it)."""
    if token is None:
        return "", ""
    value = token.value
    if value.startswith("#"):
        i = value.find("\n")
        eol, rest = (value, "") if i < 0 else (value[:i], value[i:])
    else:
        eol, rest = "", value
    return eol, ("" if rest == "\n" else rest)


def _merge_item(oi, bi, ti, path: str):
    """Merge the comment slots of one key (ruamel's ca.items entry, 4 slots; slot 2 ends its line)."""
    from ruamel.yaml.tokens import CommentToken

    oi, bi, ti = (list(x) + [None] * (4 - len(x)) if x else [None] * 4 for x in (oi, bi, ti))
    out = [None] * max(len(oi), 4)
    for slot in (0, 1, 3):
        side = _pick(_tok(oi[slot]), _tok(bi[slot]), _tok(ti[slot]), f"{path} (comment)")
        out[slot] = oi[slot] if side == "o" else copy.deepcopy(ti[slot])
    (oe, orest), (be, brest), (te, trest) = _split(oi[2]), _split(bi[2]), _split(ti[2])
    eol_side = _pick(oe, be, te, f"{path} (comment)")
    rest_side = _pick(orest, brest, trest, f"{path} (comment)")
    eol, rest = (oe if eol_side == "o" else te), (orest if rest_side == "o" else trest)
    if (eol, rest) == _split(oi[2]):
        out[2] = oi[2]
    elif (eol, rest) == _split(ti[2]):
        out[2] = copy.deepcopy(ti[2])
    elif eol or rest:
        value = eol + (rest or "\n")
        src = (oi[2] if eol_side == "o" else ti[2]) if eol else (oi[2] if rest_side == "o" else ti[2])
        src = src or oi[2] or ti[2]
        out[2] = CommentToken(value if value.endswith("\n") else value + "\n", start_mark=src.start_mark,
                              column=src.column)
    return out if any(x is not None for x in out) else None


def _merge_mapping_comments(o, b, t, path: str) -> None:
    if b is None:
        return
    side = _pick(_tok(o.ca.comment), _tok(b.ca.comment), _tok(t.ca.comment), f"{path or '(top)'} (comment)")
    if side == "t":
        o.ca.comment = copy.deepcopy(t.ca.comment)
    side = _pick(_tok(o.ca.end), _tok(b.ca.end), _tok(t.ca.end), f"{path or '(end)'} (comment)")
    if side == "t":
        o.ca.end = copy.deepcopy(t.ca.end)


# the merge --------------------------------------------------------------------------------------------

class _Merger:
    def __init__(self) -> None:
        self.conflicts: list[str] = []
        self.kept: list[str] = []

    def mapping(self, o, b, t, path: str) -> None:
        """Merge `t` (theirs) into `o` (ours) in place against base `b` (None: no base)."""
        join = (lambda k: f"{path}.{k}" if path else str(k))
        try:
            _merge_mapping_comments(o, b, t, path)
        except _Conflict as c:
            self.conflicts.append(str(c))
        base = b if b is not None else {}
        for key in list(o):
            p = join(key)
            if key in t:
                self.entry(o, b, t, key, p)
            elif key in base:   # removed by the template
                if _sig(o[key]) == _sig(base[key]) and _tok(o.ca.items.get(key)) == _tok(b.ca.items.get(key)):
                    del o[key]
                    o.ca.items.pop(key, None)
                else:
                    self.kept.append(f"{p}: removed by the template, changed by you: yours kept")
            # else: added by you, the template does not have it: yours
        for key in base:   # deleted by you
            if key not in o and key in t and _sig(t[key]) != _sig(base[key]):
                self.kept.append(f"{join(key)}: deleted by you, changed by the template: left deleted")
        order = list(t)
        for i, key in enumerate(order):   # added by the template
            if key in o or key in base:
                continue
            after = next((k for k in reversed(order[:i]) if k in o), _MISSING)
            if after is not _MISSING:
                pos = list(o).index(after) + 1
            else:
                before = next((k for k in order[i + 1:] if k in o), _MISSING)
                pos = list(o).index(before) if before is not _MISSING else len(o)
            o.insert(pos, key, copy.deepcopy(t[key]))
            if key in t.ca.items:
                o.ca.items[key] = copy.deepcopy(t.ca.items[key])

    def entry(self, o, b, t, key, path: str) -> None:
        ov, tv = o[key], t[key]
        bv = b[key] if b is not None and key in b else _MISSING
        if bv is not _MISSING:   # a key new on both sides keeps your comments
            try:
                item = _merge_item(o.ca.items.get(key), b.ca.items.get(key), t.ca.items.get(key), path)
            except _Conflict as c:
                self.conflicts.append(str(c))
            else:
                if item is None:
                    o.ca.items.pop(key, None)
                else:
                    o.ca.items[key] = item
        if isinstance(ov, dict) and isinstance(tv, dict) and (bv is _MISSING or isinstance(bv, dict)):
            self.mapping(ov, None if bv is _MISSING else bv, tv, path)
            return
        ts, os_ = _sig(tv), _sig(ov)
        if bv is _MISSING:   # added on both sides
            if plain(ov) != plain(tv):
                self.conflicts.append(path)
            return
        bs = _sig(bv)
        if ts == bs or os_ == ts:
            return
        if os_ == bs:
            o[key] = copy.deepcopy(tv)
            return
        if plain(tv) == plain(bv) or plain(ov) == plain(tv):
            return   # the template changed only comments inside it, or both reached the same value: yours
        self.conflicts.append(path)


def merge_yaml(ours: str, base: Optional[str], theirs: str) -> YamlMerged:
    """Merge by key path; `base=None` when the file is new in the template (a two-way merge)."""
    try:
        o_doc = _load(ours, "your file")
        b_doc = _load(base, "the old template's file") if base is not None else None
        t_doc = _load(theirs, "the new template's file")
    except ValueError as err:
        return YamlMerged(None, str(err))
    if o_doc is None or t_doc is None:
        return YamlMerged(None, "an empty file")
    y = None
    for indent in _INDENTS:   # the layout that writes your file back byte for byte, or none
        if _dump(_yaml(indent), o_doc) == ours:
            y = _yaml(indent)
            break
    if y is None:
        return YamlMerged(None, "ruamel does not write your file back byte for byte (its layout)")
    merger = _Merger()
    merger.mapping(o_doc, b_doc, t_doc, "")
    if merger.conflicts:
        return YamlMerged(None, "changed on both sides: " + ", ".join(merger.conflicts), conflicts=merger.conflicts,
                          kept=merger.kept)
    text = _dump(y, o_doc)
    import yaml

    try:   # a sanity check of what is about to be written: the C loader is fast
        check = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return YamlMerged(None, "the YAML merge wrote an unreadable file")
    if check != plain(o_doc):
        return YamlMerged(None, "the YAML merge did not read back as merged")
    return YamlMerged(text, kept=merger.kept)
