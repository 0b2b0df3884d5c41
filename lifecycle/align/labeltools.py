"""Pairwise review in a labelling tool: `lifecycle review export|import --format label-studio|argilla`.

Export writes the pairs blind (which candidate is on the left is drawn per pair, as in the terminal
review, and recorded in the task) in the tool's import form; import reads the tool's export back
into judgments (data/preferences/judgments.jsonl), naming each side by the pair's own a/b.

Label Studio (labelstud.io/templates/pairwise_comparison, /guide/task_format): tasks
`[{"data": {...}}]` for a `<Pairwise name="pw" toName="text1,text2"/>` config (written beside the
tasks) plus a `tie` Choices; its JSON export holds `annotations[].result[]` items of type
`pairwise` with `value.selected` "left" / "right" (the tag's model in HumanSignal/label-studio
web/libs/editor/src/tags/control/Pairwise.js: type 'pairwise', valueType 'selected'), or `choices`
["tie"], by `completed_by`.

Argilla 2.x (argilla-io/argilla, argilla/src/argilla): the settings file is what
`rg.Settings.to_json` writes and `rg.Settings.from_json` reads (settings/_resource.py `serialize`):
TextFields prompt/response1/response2, a LabelQuestion `preference` (settings type
"label_selection", options response1 / response2 / tie), terms metadata pair_id and shown_first.
The records are `Record.to_dict()` dicts (records/_resource.py), loadable with
`rg.Record.from_dict`. Both export shapes are read back: `dataset.records.to_json(path)` /
`to_list()` (nested: `responses: {"preference": [{"value", "user_id"}]}`, no per-response status)
and `to_list(flatten=True)` / `to_datasets()` / `to_hub` (records/_io/_generic.py: columns
`preference.responses`, `preference.responses.users`, `preference.responses.status`, metadata
as top-level columns); only submitted responses count where a status is given."""

from __future__ import annotations

import json
from pathlib import Path

from lifecycle.errors import DataError

FORMATS = ("label-studio", "argilla")
LABEL_CONFIG = """<View>
  <Header value="$prompt"/>
  <Pairwise name="pw" toName="text1,text2"/>
  <Text name="text1" value="$text1"/>
  <Text name="text2" value="$text2"/>
  <Choices name="tie" toName="text1" choice="single">
    <Choice value="tie"/>
  </Choices>
</View>
"""
ARGILLA_LABELS = ("response1", "response2", "tie")


def _argilla_text_field(name: str) -> dict:
    return {"name": name, "title": name, "required": True, "description": None,
            "settings": {"type": "text", "use_markdown": False}}


def _argilla_terms(name: str) -> dict:
    return {"name": name, "title": name, "type": "terms", "visible_for_annotators": False,
            "settings": {"type": "terms", "values": None, "visible_for_annotators": False}}


# rg.Settings(...).serialize() for the pairwise dataset: `rg.Settings.from_json(<file>)` loads it
ARGILLA_SETTINGS = {
    "guidelines": "Which response answers the prompt better? Pick tie when neither is better.",
    "questions": [{"name": "preference", "title": "Which response is better?", "description": None, "required": True,
                   "settings": {"type": "label_selection", "visible_options": len(ARGILLA_LABELS),
                                "options": [{"value": v, "text": v, "description": None} for v in ARGILLA_LABELS]}}],
    "fields": [_argilla_text_field(n) for n in ("prompt", "response1", "response2")],
    "vectors": [],
    "metadata": [_argilla_terms("pair_id"), _argilla_terms("shown_first")],  # hidden: the review stays blind
    "allow_extra_metadata": False,
    "distribution": {"strategy": "overlap", "min_submitted": 1},
    "mapping": None,
}


def _check_format(fmt: str) -> None:
    from lifecycle.errors import did_you_mean

    if fmt not in FORMATS:
        raise DataError(did_you_mean(fmt, FORMATS, kind="format"), hint=f"formats: {', '.join(FORMATS)}")


def export_pairs(pairs: list[dict], fmt: str, out: Path, *, seed: str = "export") -> list[Path]:
    """Write the pairs for the tool; returns the files written (tasks/records, then its config)."""
    from lifecycle.align.review import shown_first
    from lifecycle.config.yaml_io import atomic_write_text

    _check_format(fmt)
    out = Path(out)
    if out.exists():
        raise DataError(f"{out} already exists; nothing was written", hint="pass a new file with --out")
    rows = []
    for p in pairs:
        first = shown_first(p["pair_id"], seed)  # blind and reproducible: recorded in the task
        left, right = (p["a"], p["b"]) if first == "a" else (p["b"], p["a"])
        if fmt == "label-studio":
            rows.append({"data": {"pair_id": p["pair_id"], "prompt": p["prompt"], "text1": left, "text2": right,
                                  "shown_first": first}})
        else:
            rows.append({"id": p["pair_id"], "fields": {"prompt": p["prompt"], "response1": left, "response2": right},
                         "metadata": {"pair_id": p["pair_id"], "shown_first": first}, "suggestions": {},
                         "responses": {}, "vectors": {}})
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    config = out.with_name(out.stem + (".label_config.xml" if fmt == "label-studio" else ".settings.json"))
    atomic_write_text(config, LABEL_CONFIG if fmt == "label-studio" else json.dumps(ARGILLA_SETTINGS, indent=2) + "\n")
    return [out, config]


def how_to_load(fmt: str, files: list[Path]) -> str:
    """One line telling the team how the written files go into the tool."""
    if fmt == "label-studio":
        return (f"Label Studio: paste {files[1].name} as the project's labeling interface, import {files[0].name}; "
                "export JSON and run `lifecycle review import FILE --format label-studio`")
    return (f"Argilla: rg.Dataset(name=..., settings=rg.Settings.from_json('{files[1].name}')).create(), then "
            f"dataset.records.log([rg.Record.from_dict(r) for r in json.load(open('{files[0].name}'))]); "
            "read back with dataset.records.to_json(FILE) and `lifecycle review import FILE --format argilla`")


def _side(first: str, picked: str) -> str:
    """left/response1 is the side shown first."""
    other = "b" if first == "a" else "a"
    return first if picked in ("left", "response1") else other


def _annotator(value) -> str:
    if isinstance(value, dict):
        value = value.get("email") or value.get("username") or value.get("id")
    return f"label-studio:{value}" if isinstance(value, int) else str(value)


def read_tool_export(path: Path, fmt: str, known: set[str]) -> list[dict]:
    """Judgment records ({pair_id, annotator, choice, shown_first}) from the tool's JSON export;
    DataError naming the item and field for anything unexpected."""
    from lifecycle.data import json_type
    from lifecycle.textio import read_json

    _check_format(fmt)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    items = read_json(path, kind=f"{fmt} export")  # bounded, strict UTF-8, located JSON errors
    if not isinstance(items, list):
        raise DataError(f"{path}: expected a JSON list of {'tasks' if fmt == 'label-studio' else 'records'}, "
                        f"got {json_type(items)}")
    out = []
    for i, item in enumerate(items):
        where = f"{path}: item {i}"
        meta = (item.get("data") if fmt == "label-studio" else _argilla_metadata(item)) if isinstance(item, dict) else None
        if not isinstance(meta, dict) or meta.get("pair_id") not in known:
            raise DataError(f"{where}: {'data' if fmt == 'label-studio' else 'metadata'}.pair_id missing or not a "
                            "known pair", hint="import the export of tasks written by `lifecycle review export`")
        first = meta.get("shown_first")
        if first not in ("a", "b"):
            raise DataError(f"{where}: shown_first must be 'a' or 'b'")
        if fmt == "label-studio":
            for ann in item.get("annotations") or []:
                if not isinstance(ann, dict) or ann.get("was_cancelled"):
                    continue
                choice = None
                for res in ann.get("result") or []:
                    value = res.get("value") if isinstance(res, dict) else None
                    if res.get("type") == "pairwise" and isinstance(value, dict) and value.get("selected") in ("left", "right"):
                        choice = _side(first, value["selected"])
                    elif res.get("type") == "choices" and isinstance(value, dict) and "tie" in (value.get("choices") or []):
                        choice = "tie"
                if choice is None:
                    raise DataError(f"{where}: an annotation without a pairwise choice (left/right) or tie")
                out.append({"pair_id": meta["pair_id"], "annotator": _annotator(ann.get("completed_by")),
                            "choice": choice, "shown_first": first})
        else:
            for value, user in _argilla_responses(item, where):
                if value not in ARGILLA_LABELS:
                    raise DataError(f"{where}: preference response {value!r} is not response1, response2 or tie")
                out.append({"pair_id": meta["pair_id"], "annotator": f"argilla:{user}",
                            "choice": "tie" if value == "tie" else _side(first, value), "shown_first": first})
    return out


def _argilla_metadata(item: dict):
    """`metadata` of a nested record (to_json / to_list), or the top-level columns of a flattened one."""
    return item.get("metadata") if isinstance(item.get("metadata"), dict) else item


def _argilla_responses(item: dict, where: str) -> list[tuple]:
    """(value, user_id) of each submitted `preference` response, from either export shape."""
    if "preference.responses" in item:  # to_list(flatten=True) / to_datasets / to_hub
        values = item.get("preference.responses")
        values = [] if values is None else values  # a record nobody answered
        users = item.get("preference.responses.users", [None] * len(values) if isinstance(values, list) else None)
        status = item.get("preference.responses.status", [None] * len(values) if isinstance(values, list) else None)
        users, status = ([] if x is None and not values else x for x in (users, status))
        if not (isinstance(values, list) and isinstance(users, list) and isinstance(status, list)
                and len(values) == len(users) == len(status)):
            raise DataError(f"{where}: preference.responses, .users and .status must be lists of one length")
        return [(v, u) for v, u, st in zip(values, users, status) if st in (None, "submitted")]
    responses = item.get("responses") or {}
    if not isinstance(responses, dict):
        raise DataError(f"{where}: responses must be an object of question name -> list")
    out = []
    for resp in responses.get("preference") or []:
        if isinstance(resp, dict) and resp.get("status", "submitted") == "submitted":
            out.append((resp.get("value"), resp.get("user_id")))
    return out


def import_tool_export(pairs: list[dict], path: Path, fmt: str, judgments_path: Path) -> dict:
    """Record the tool's judgments (each annotator's second judgment of a pair is left alone)."""
    import tempfile

    from lifecycle.align.review import import_judgments

    records = read_tool_export(path, fmt, {p["pair_id"] for p in pairs})
    if not records:
        raise DataError(f"{path}: no submitted judgments in the {fmt} export")
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / (Path(path).stem + ".judgments.jsonl")
        staged.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        return import_judgments(pairs, staged, judgments_path, None)
