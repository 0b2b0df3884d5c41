"""Chat messages -> one prompt string.

A tokenizer with a chat template renders the messages itself (the project's `system` is added when
the request has none). A model without one (T5) gets the project's prompt config: the last user
turn fills the template's field (a JSON object fills several fields), earlier user/assistant turns
become shots, and the prompt builder applies the same budget policy as `lifecycle generate`, so a
chat request with an example's field gives the same prompt, and the same greedy output."""

from __future__ import annotations

import json

from lifecycle.errors import PromptError
from lifecycle.serve.protocol import APIError


def _fields(content: str, fields: list[str], cfg, where: str) -> dict:
    if len(fields) == 1:
        return {fields[0]: content}
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    if not isinstance(data, dict) or any(f not in data for f in fields):
        raise APIError(400, f"{where}: the prompt template needs the fields {', '.join(fields)}; send the message "
                       "content as a JSON object with them, or use /v1/completions with the full prompt",
                       param="messages")
    return {f: data[f] for f in fields}


def render_messages(served, messages, tokenizer, *, max_tokens: int, rag=None) -> tuple[str, bool, object]:
    """(prompt text, add_special_tokens, what `rag` (a lifecycle.serve.rag.ServeRag) retrieved or None).

    With `rag`, the prompt gets the retrieved chunks that fit the model's window less max_tokens:
    a chat template gets them before the last user message; a prompt template fills its {context}."""
    from lifecycle.prompting.project_inputs import PromptInputs
    from lifecycle.prompting.chat import render_chat, uses_chat_template
    from lifecycle.prompt_template import template_fields

    cfg = served.prompt_cfg
    turns = [(m.role, m.text()) for m in messages]
    if turns[-1][0] != "user":
        raise APIError(400, "the last message must come from the user", param="messages")
    loaded = served.loaded
    limit = loaded.context_window - (0 if loaded.encoder_decoder else max_tokens)
    found = None

    def count(text: str, special: bool = True) -> int:
        return len(tokenizer(text, add_special_tokens=special)["input_ids"])

    try:
        if uses_chat_template(cfg, tokenizer):
            chat = [{"role": "system" if r == "developer" else r, "content": c} for r, c in turns]
            if cfg.system and not any(r in ("system", "developer") for r, _ in turns):
                chat.insert(0, {"role": "system", "content": cfg.system})
            if rag is None:
                return render_chat(tokenizer, chat), False, None
            from lifecycle.serve.rag import completion_prompt

            found = rag.search(turns[-1][1])

            def with_context(context: str) -> str:
                return render_chat(tokenizer, [*chat[:-1], {"role": "user",
                                                            "content": completion_prompt(turns[-1][1], context)}])

            return rag.fit(found, with_context, lambda t: count(t, False), limit), False, found
        if rag is not None:
            cfg = rag.prompt_cfg  # the template with {context}
        fields = [f for f in template_fields(cfg.template) if rag is None or f != "context"]
        convo = [(r, c) for r, c in turns if r in ("user", "assistant")]
        query = convo.pop()
        shots = []
        while convo:
            if len(convo) < 2 or convo[0][0] != "user" or convo[1][0] != "assistant":
                raise APIError(400, "earlier turns must alternate user, assistant", param="messages")
            (_, q), (_, a) = convo[0], convo[1]
            convo = convo[2:]
            shots.append({cfg.id_field: f"turn-{len(shots)}", **_fields(q, fields, cfg, "messages"),
                          cfg.target_field: a})
        example = {cfg.id_field: "request", **_fields(query[1], fields, cfg, "messages[-1]")}
        prepare = getattr(served, "prepare", None)
        if rag is not None:  # chunks fitted to the zero-shot prompt, as generate --rag fits them
            from lifecycle.rag.evaluate import fit_example

            qfield = rag.query_field()
            found = rag.search(str(example.get(qfield) or ""))
            found.used, found.tokens = fit_example(cfg.template, example, found.hits, count, limit,
                                                   prepare=(lambda e: prepare([e])[0]) if prepare else None)
            example["context"] = found.context()
            for shot in shots:  # earlier turns carry no retrieval of their own
                shot.setdefault("context", "")
        if prepare is not None:  # the project's preprocess, as `generate` applies it
            example, *shots = prepare([example, *shots])
        shots_cfg = cfg.shots.model_copy(update={"k": len(shots), "selection": "first", "ids": [], "pool": None})
        inputs = PromptInputs.of(cfg.model_copy(update={"shots": shots_cfg}), [example], tokenizer,
                                 context_window=loaded.context_window, encoder_decoder=loaded.encoder_decoder,
                                 reserve_tokens=max_tokens, pool=shots or None)
        prompts = inputs.build(len(shots))
    except PromptError as err:
        raise APIError(400, str(err), param="messages") from err
    return prompts[0].text, prompts[0].add_special_tokens, found
