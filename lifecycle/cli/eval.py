"""(being written)"""
from lifecycle.cli.main import app  # noqa: F401
