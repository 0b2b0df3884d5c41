"""Stage checklists: a registry of checks that read evidence (files, run folders, token counts).

`run_checks(root, stage)` runs them; `validate_project(root)` validates every project file.
Light on import: stage modules load heavy libraries only inside the checks that need them.
"""

from lifecycle.checks.registry import (  # noqa: F401
    STAGES, CheckResult, CheckSpec, all_checks, get_check, run_checks,
)
from lifecycle.checks.validate import ValidationReport, validate_project  # noqa: F401
