"""Text from files, shown on a terminal: control characters escaped.

A note, a dataset field or a model's output can hold ESC sequences (recolour, move the cursor,
rewrite the title, hide text, or on some terminals paste or run commands), BEL, backspaces and
carriage returns that overwrite what was printed before. `printable` makes every such character
visible as an escape (`\\x1b`, `\\r`), so what a teammate sees is what the file holds.
"""

from __future__ import annotations

import re

# A person's note (an attestation, a sign-off): long enough to say what was done, small enough to replay.
MAX_NOTE_CHARS = 2000

# C0 controls except newline and tab, DEL, C1 controls; plus the Unicode format characters that
# reorder or hide text (bidi overrides and isolates, zero-width joiners are left: they are text).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(match: re.Match) -> str:
    ch = match.group(0)
    named = {"\r": "\\r", "\x1b": "\\x1b", "\x00": "\\x00"}
    if ch in named:
        return named[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, newlines: bool = True, tabs: bool = True) -> str:
    """`text` with terminal control characters shown as escapes. Newlines (and tabs) are kept
    unless `newlines=False` / `tabs=False`, for one-line displays such as a table cell."""
    s = text if isinstance(text, str) else str(text)
    out = _UNSAFE.sub(_escape, s)
    if not newlines:
        out = out.replace("\n", "\\n")
    if not tabs:
        out = out.replace("\t", "\\t")
    return out


def is_printable(text: str) -> bool:
    """Whether `printable(text)` would leave it unchanged."""
    return _UNSAFE.search(text) is None

