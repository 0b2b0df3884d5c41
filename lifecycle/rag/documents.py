"""Documents under data/docs/: .txt and .md files are one document each (id: the path relative to
the folder); a .jsonl file holds one document per line (id and text from configurable fields).

Bad input is refused with one located line per problem (binary or non-UTF-8 bytes, oversized files,
duplicate ids, malformed JSONL); empty documents are skipped with a warning. Symlinks are followed
only when they stay inside the documents folder."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.data import json_type
from lifecycle.errors import DataError, located
from lifecycle.textio import BOM, parse_json

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
SUFFIXES = TEXT_SUFFIXES | {".jsonl"}


@dataclass
class Document:
    id: str
    text: str
    source: str          # path relative to the docs folder
    line: int | None     # JSONL line, None for a text file


@dataclass
class DocFile:
    rel: str
    path: Path
    sha256: str


@dataclass
class Scan:
    files: list[DocFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def scan_docs(folder: Path, *, max_bytes: int) -> Scan:
    """Document files (sorted) with their sha256; symlinks leaving the folder are not followed."""
    if not folder.is_dir():
        raise DataError(f"{folder}: documents folder not found",
                        hint="put .txt/.md/.jsonl files there (`lifecycle rag samples` writes examples) "
                        "or set `docs:` in configs/rag.yaml")
    root = folder.resolve()
    scan = Scan()
    problems = []
    # os.walk(followlinks=False): a symlinked folder is never entered
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for d in sorted(dirnames):
            if (Path(dirpath) / d).is_symlink():  # os.walk does not enter it: say so
                scan.warnings.append(located(Path(dirpath) / d, None, None, "symlinked folder: not followed"))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (Path(dirpath) / d).is_symlink())
        for name in sorted(filenames):
            p = Path(dirpath) / name
            rel = p.relative_to(folder).as_posix()
            if name.startswith(".") or p.suffix.lower() not in SUFFIXES:
                continue
            if p.is_symlink():
                try:
                    target = p.resolve(strict=True)
                except (OSError, RuntimeError):  # dangling, or a loop (RuntimeError before Python 3.13)
                    scan.warnings.append(located(p, None, None, "broken or looping symlink: skipped"))
                    continue
                if not _inside(target, root):
                    scan.warnings.append(located(p, None, None, f"symlink to {target} leaves {folder}: not followed"))
                    continue
            size = p.stat().st_size
            if size > max_bytes:
                problems.append(located(p, None, None, f"{size / 1e6:.1f} MB is over the limit of "
                                        f"{max_bytes / 1e6:.1f} MB (max_doc_mb in configs/rag.yaml)"))
                continue
            h = hashlib.sha256(p.read_bytes()).hexdigest()
            scan.files.append(DocFile(rel, p, h))
    if problems:
        raise DataError(problems[0] if len(problems) == 1 else f"{len(problems)} problems:\n  " + "\n  ".join(problems),
                        hint="split or remove the documents named")
    return scan


def _decode(path: Path, data: bytes) -> tuple[str | None, str | None]:
    """(text, problem)."""
    nul = data.find(b"\x00")
    if nul >= 0:
        return None, located(path, None, None, f"binary file (NUL byte at offset {nul}); only UTF-8 text is indexed")
    if data.startswith(BOM):  # a BOM is an encoding mark, not text of the document
        data = data[len(BOM):]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        return None, located(path, line, None, f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})")


def load_documents(scan: Scan, fields, files: list[DocFile] | None = None) -> tuple[list[Document], list[str]]:
    """(documents, warnings) of the scanned files (or `files`); DataError lists every problem."""
    docs: list[Document] = []
    warnings: list[str] = []
    problems: list[str] = []
    seen: dict[str, str] = {}

    def add(doc: Document, path: Path) -> None:
        where = located(path, doc.line, None, "")[:-2]
        if doc.id in seen:
            problems.append(located(path, doc.line, fields.id_field if doc.line else None,
                                    f"duplicate document id '{doc.id}' (first at {seen[doc.id]})"))
            return
        seen[doc.id] = where
        if not doc.text.strip():
            warnings.append(located(path, doc.line, None, "empty document: skipped"))
            return
        docs.append(doc)

    for f in (scan.files if files is None else files):
        text, problem = _decode(f.path, f.path.read_bytes())
        if problem:
            problems.append(problem)
            continue
        if f.path.suffix.lower() != ".jsonl":
            add(Document(f.rel, text, f.rel, None), f.path)
            continue
        for i, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:  # NaN, duplicate keys, deep nesting, lone surrogates: one located problem each
                obj = parse_json(line, f.path, line=i)
            except DataError as err:
                problems.append(err.message)
                continue
            if not isinstance(obj, dict):
                problems.append(located(f.path, i, None, f"expected a JSON object, got {json_type(obj)}"))
                continue
            if obj.get(fields.id_field) in (None, ""):
                problems.append(located(f.path, i, fields.id_field, "missing document id"))
                continue
            doc_id = obj[fields.id_field]
            if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):  # str() would invent an id
                problems.append(located(f.path, i, fields.id_field, f"must be text or an integer, got {json_type(doc_id)}"))
                continue
            body = obj.get(fields.text_field)
            if not isinstance(body, str):
                problems.append(located(f.path, i, fields.text_field, "missing or not text"))
                continue
            title = obj.get(fields.title_field) if fields.title_field else None
            if title is not None and not isinstance(title, str):
                problems.append(located(f.path, i, fields.title_field, f"must be text, got {json_type(title)}"))
                continue
            full = f"{title}\n{body}" if isinstance(title, str) and title.strip() and body.strip() else body
            add(Document(str(doc_id), full, f.rel, i), f.path)
    if problems:
        raise DataError(problems[0] if len(problems) == 1 else f"{len(problems)} problems:\n  " + "\n  ".join(problems),
                        hint="fix or remove the documents named, then run `lifecycle rag index` again")
    return docs, warnings
