"""The project's own code the tool calls: functions named by import path in a config
(`my_pkg.prompts:prepare`, `my_pkg.metrics:length_ratio`).

Only the project's own package under `src/` is importable this way (lifecycle.yaml
`project.package`): a config names a function, never a file, and nothing is ever imported from a
data file or from another installed package. The module is imported fresh from this project's
src/ (a second project in one process gets its own code, not the first one's cached module).
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Callable

from lifecycle.errors import ConfigError

SPEC = re.compile(r"^(?P<module>[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*):(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")


def parse_spec(spec: str, *, where: str) -> tuple[str, str]:
    m = SPEC.match(spec or "")
    if not m:
        raise ConfigError(f"{where}: '{spec}' is not an import path of the form package.module:function",
                          hint="e.g. my_pkg.metrics:length_ratio (a function in your project's src/ package)")
    return m.group("module"), m.group("name")


def _forget(package: str) -> None:
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def load_function(root: str | Path, package: str, spec: str, *, where: str) -> Callable:
    """The function `spec` names, imported from `<root>/src/<package>`; a one-line ConfigError when
    it names another package, the module does not import, or the name is not a function."""
    module, name = parse_spec(spec, where=where)
    if module != package and not module.startswith(package + "."):
        raise ConfigError(f"{where}: '{spec}' is outside the project's package '{package}'",
                          hint=f"put the function in src/{package}/ and name it {package}.<module>:<function>")
    src = (Path(root) / "src").resolve()
    if not (src / package).is_dir():
        raise ConfigError(f"{where}: '{spec}': no package folder src/{package}",
                          hint="lifecycle.yaml project.package names the package under src/")
    _forget(package)
    sys.path.insert(0, str(src))
    try:
        mod = importlib.import_module(module)
    except Exception as err:  # the user's code: any error is reported in one line, with its type
        raise ConfigError(f"{where}: importing {module} failed: {type(err).__name__}: {err}",
                          hint=f"run `python -c 'import {module}'` in the project (with src/ on the path) to see it") from err
    finally:
        sys.path.remove(str(src))
    where_from = Path(getattr(mod, "__file__", "") or "").resolve()
    if not where_from.is_relative_to(src / package):
        raise ConfigError(f"{where}: {module} was loaded from {where_from}, not from src/{package}",
                          hint="another installed package has the same name; rename the project's package")
    func = getattr(mod, name, None)
    if not callable(func):
        raise ConfigError(f"{where}: {module} has no function '{name}'",
                          hint=f"define `def {name}(...)` in src/{module.replace('.', '/')}.py")
    return func
