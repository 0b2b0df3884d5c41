"""Fine-tuning methods, one module each, registered on import (see registry.py).

Order here is the order of the CLI choices."""

from lifecycle.methods.registry import (  # noqa: F401
    INFERENCE, MERGEABLE, METHODS, AdapterSettings, Method, estimator_methods, get_method, method_names,
    peft_task_type, register_method, task_type_for,
)
from lifecycle.methods import full, lora, prompt_tuning, ia3  # noqa: F401,E402  (register the built-ins)
from lifecycle.methods.lora import LORA_TARGETS  # noqa: F401,E402
from lifecycle.methods.targets import default_targets  # noqa: F401,E402
