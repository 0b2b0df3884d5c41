"""Tools a model can call instead of doing exact work itself (the calculator, PAL-style)."""
