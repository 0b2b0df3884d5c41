"""`lifecycle new`: validate the SCOPE answers, render the project template into a staging folder
next to the target, and move it into place only when complete.

Light on purpose (pydantic and yaml only at import); cookiecutter is imported by `render` when it runs.
"""
