"""The one memory-size parser, shared by `lifecycle new --gpu-memory`, `lifecycle select
--gpu-memory/--memory` and every config that names a size.

Units are binary throughout: `80GB` = `80GiB` = 80 x 2^30 bytes, `512MB` = 512 MiB. GPU vendors
sell memory that way (an "80GB" A100 reports 81,920 MiB), so reading GB as 10^9 bytes would
shrink every card by 7%; the same spelling must mean the same number in every command.
"""

from __future__ import annotations

import re

from lifecycle.errors import ConfigError

GIB = 1024**3
_POWERS = {"": 3, "k": 1, "m": 2, "g": 3, "t": 4}  # a bare number is GiB
_MEMORY_RE = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b)?\s*", re.I)


def parse_memory(text) -> int:
    """'24GiB', '24GB', '24 g', '512MiB', '1.5T' or a plain number of GiB -> bytes (binary units)."""
    if isinstance(text, bool):
        raise ConfigError(f"cannot read memory size '{text}'", hint="write it like 24GiB, 80GB or 512MiB")
    if isinstance(text, (int, float)):
        return int(float(text) * GIB)
    m = _MEMORY_RE.fullmatch(str(text))
    if not m or (m.group(3) and not m.group(2) and m.group(3).lower() != "b"):
        raise ConfigError(f"cannot read memory size '{text}'", hint="write it like 24GiB, 80GB or 512MiB")
    unit = m.group(2).lower()
    if not unit and m.group(3):  # "512B": bytes
        return int(float(m.group(1)))
    return int(float(m.group(1)) * 1024 ** _POWERS[unit])


def parse_memory_gib(text) -> float:
    return parse_memory(text) / GIB
