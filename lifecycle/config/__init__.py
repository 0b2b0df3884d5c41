"""Safe YAML loading with file:line errors, and the typed configs a project's files are validated by."""
