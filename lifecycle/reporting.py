"""How library code reports what it is doing: through an `echo` callback its caller passes (the CLI
gives `typer.echo(..., err=True)`). The default writes to stderr, never stdout, so a command's
`--json` output stays parseable and a library caller can silence or capture it by passing its own."""

from __future__ import annotations

import sys
from typing import Callable

Echo = Callable[[str], None]


def to_stderr(message: str) -> None:
    sys.stderr.write(f"{message}\n")
    sys.stderr.flush()
