"""Chat models: the prompt goes through the tokenizer's own chat template.

Each shot becomes a user turn (template + answer prefix, trailing whitespace removed) followed by an
assistant turn (the target); the query is the last user turn and `add_generation_prompt=True`
opens the assistant's reply. The rendered string already holds the template's special tokens, so
it is tokenized with `add_special_tokens=False`."""

from __future__ import annotations

from lifecycle.config.prompt import PromptConfig
from lifecycle.errors import PromptError


def uses_chat_template(cfg: PromptConfig, tokenizer) -> bool:
    has = bool(getattr(tokenizer, "chat_template", None))
    if cfg.use_chat_template == "always" and not has:
        name = getattr(tokenizer, "name_or_path", "") or "this model"
        raise PromptError(f"use_chat_template is 'always' but the tokenizer of '{name}' has no chat template",
                          hint="set `use_chat_template: auto` (or never) in configs/prompt.yaml, or pick a chat model")
    return has and cfg.use_chat_template != "never"


def chat_messages(query: str, shots: list[tuple[str, str]], system: str | None) -> list[dict]:
    """[system], (user, assistant) per shot, user query."""
    messages = [{"role": "system", "content": system}] if system else []
    for question, answer in shots:
        messages += [{"role": "user", "content": question.rstrip()}, {"role": "assistant", "content": answer}]
    messages.append({"role": "user", "content": query.rstrip()})
    return messages


def render_chat(tokenizer, messages: list[dict]) -> str:
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    except Exception as err:  # jinja errors (e.g. a template that rejects a system turn) come in many types
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise PromptError(f"the tokenizer's chat template failed: {first}",
                          hint="if it rejects the system turn, remove `system:`; or set `use_chat_template: never`") from err
    if not isinstance(text, str):
        raise PromptError("the tokenizer's chat template did not return text")
    return text
