"""Fine-tuning methods, one module each, registered on import (see registry.py).

Order here is the order of the CLI choices."""

from lifecycle.methods.registry import (  # noqa: F401
    INFERENCE, MERGEABLE, METHODS, PREFERENCE_METHODS, AdapterSettings, Method, estimator_methods,
    get_estimator_method, get_method, method_names, peft_task_type, preference_method_for, preference_method_names,
    register_method, task_type_for,
)
from lifecycle.methods import full, lora, prompt_tuning, ia3  # noqa: F401,E402  (register the built-ins)
from lifecycle.methods import preference  # noqa: F401,E402  (dpo, ipo, dpo_lora, ipo_lora: `lifecycle align dpo`)
from lifecycle.methods.lora import LORA_TARGETS  # noqa: F401,E402
from lifecycle.methods.targets import default_targets  # noqa: F401,E402
