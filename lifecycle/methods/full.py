"""Full fine-tuning: every weight trains; the result is a whole model (nothing to merge)."""

from __future__ import annotations

from lifecycle.methods.registry import Method, register_method

register_method(Method("full", "every weight trains (gradients and AdamW states for all)", trains="full"))
