"""Uncertainty and decisions over scores: bootstrap intervals and paired tests (`bootstrap`), the
metrics.json document with its intervals (`intervals`), the verdict of a paired comparison
(`verdict`) and targets met only by their confidence bound (`targets`)."""
