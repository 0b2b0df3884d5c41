"""`evaluate.Metric` modules, one per file (thin subclasses of `base.TextMetric`), loaded by absolute path with `evaluate.load(str(path))`.

One import per line: `evaluate` scans the import lines of a module file to check its dependencies.
"""
