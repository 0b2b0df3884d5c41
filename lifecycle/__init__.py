"""genai-lifecycle: scope -> select -> adapt & align -> integrate, with evidence at every step.

Importing this package is cheap on purpose: heavy libraries (torch, transformers, peft,
evaluate, cookiecutter) are imported inside the functions that need them.
"""

__version__ = "0.1.0"
