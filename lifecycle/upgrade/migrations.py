"""Schema migrations of lifecycle.yaml, one function per `schema_version` step.

A step `N -> N+1` is registered with `@migration(N)` and edits the ruamel round-trip document in
place, so the user's comments and key order survive. `lifecycle upgrade` migrates the working copy
(and the rendered base) to the target template's schema_version before the three-way merge, so a
renamed or moved field is carried over with the user's value instead of conflicting.
The schema is still at its first version (lifecycle.manifest.SCHEMA_VERSION = 1): the chain is
empty until a release changes it, and `migrate_text` refuses a gap instead of guessing.
"""

from __future__ import annotations

import io
from typing import Callable

from lifecycle.upgrade.history import UpgradeError

Step = Callable[[dict], None]
MIGRATIONS: dict[int, Step] = {}


def migration(from_version: int) -> Callable[[Step], Step]:
    def wrap(func: Step) -> Step:
        if from_version in MIGRATIONS:
            raise ValueError(f"a migration from schema_version {from_version} is already registered")
        MIGRATIONS[from_version] = func
        return func
    return wrap


def _yaml():
    from ruamel.yaml import YAML

    y = YAML()  # round-trip: comments, key order and quoting are kept
    y.preserve_quotes = True
    y.width = 4096
    # ruamel writes None as an empty value; the templates (and users) write `null`.
    y.representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return y


def rename_key(mapping, old: str, new: str) -> None:
    """Rename a key in a ruamel mapping in place: same position, same value, same end-of-line comment."""
    if old not in mapping:
        return
    position = list(mapping).index(old)
    comment = mapping.ca.items.pop(old, None)
    mapping.insert(position, new, mapping.pop(old))
    if comment is not None:
        mapping.ca.items[new] = comment


def schema_version_of(text: str) -> int | None:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    value = data.get("schema_version") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def migrate_text(text: str, target: int, *, where: str = "lifecycle.yaml") -> str:
    """`text` with every step from its schema_version up to `target` applied; unchanged if already there."""
    current = schema_version_of(text)
    if current is None or current >= target:
        return text
    y = _yaml()
    data = y.load(text)
    while current < target:
        step = MIGRATIONS.get(current)
        if step is None:
            raise UpgradeError(f"{where}: no migration from schema_version {current} to {current + 1}",
                               hint="upgrade genai-lifecycle itself first; this version cannot read that schema")
        step(data)
        current += 1
        data["schema_version"] = current
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()
