"""A small document model rendered twice: report.md (images as plots/*.png links) and a
self-contained report.html (images embedded as base64 PNG, no external files or scripts)."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.config.yaml_io import atomic_write_bytes, atomic_write_text

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d1d1f;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;border-bottom:2px solid #4c78a8;padding-bottom:.3rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;
vertical-align:top;text-align:left}th{background:#f3f6fa}tr:nth-child(even) td{background:#fafbfc}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.text{max-width:420px;white-space:pre-wrap}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}figure{margin:1rem 0}
figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85rem;color:#555}p.meta{color:#555;font-size:.9rem}
details{border:1px solid #d0d7de;border-radius:4px;margin:.25rem 0;padding:.2rem .6rem}
details[open]{background:#fafbfc}summary{cursor:pointer;font-size:.9rem}
details dt{font-weight:600;font-size:.8rem;color:#555;margin-top:.4rem}
details dd{margin:0}details pre{white-space:pre-wrap;margin:.1rem 0;font-size:.85rem;max-height:24rem;overflow:auto}
"""


@dataclass
class Image:
    name: str  # file name under plots/
    png: bytes
    caption: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[object]]


@dataclass
class Details:
    """A collapsible item (an example): a one-line summary, then labelled texts."""
    summary: str
    parts: list[tuple[str, str]]


@dataclass
class Doc:
    title: str
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def h2(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def p(self, text: str, cls: str = "") -> None:
        self.blocks.append(("p", (text, cls)))

    def table(self, header: list[str], rows: list[list[object]]) -> None:
        self.blocks.append(("table", Table(header, rows)))

    def image(self, name: str, png: bytes, caption: str) -> None:
        self.blocks.append(("img", Image(name, png, caption)))

    def details(self, summary: str, parts: list[tuple[str, str]]) -> None:
        self.blocks.append(("details", Details(summary, parts)))

    # rendering ------------------------------------------------------------------------------------
    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for kind, b in self.blocks:
            if kind == "h2":
                out += [f"## {b}", ""]
            elif kind == "p":
                out += [b[0], ""]
            elif kind == "table":
                out.append("| " + " | ".join(_md_cell(h) for h in b.header) + " |")
                out.append("|" + "---|" * len(b.header))
                out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
                out.append("")
            elif kind == "img":
                out += [f"![{b.caption}](plots/{b.name})", "", f"*{b.caption}*", ""]
            elif kind == "details":  # GitHub renders <details> in markdown too
                out += ["<details>", f"<summary>{html.escape(b.summary)}</summary>", ""]
                for label, text in b.parts:
                    fence = "````" if "```" in text else "```"
                    out += [f"**{label}**", "", fence + "text", text, fence, ""]
                out += ["</details>", ""]
        return "\n".join(out)

    def html(self) -> str:
        parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(self.title)}"
                 f"</title><style>{_CSS}</style></head><body><h1>{html.escape(self.title)}</h1>"]
        for kind, b in self.blocks:
            if kind == "h2":
                parts.append(f"<h2>{html.escape(b)}</h2>")
            elif kind == "p":
                cls = f" class='{b[1]}'" if b[1] else ""
                parts.append(f"<p{cls}>{html.escape(b[0])}</p>")
            elif kind == "table":
                head = "".join(f"<th>{html.escape(str(h))}</th>" for h in b.header)
                body = "".join("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in b.rows)
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif kind == "img":
                data = base64.b64encode(b.png).decode("ascii")
                parts.append(f"<figure><img alt='{html.escape(b.caption)}' src='data:image/png;base64,{data}'>"
                             f"<figcaption>{html.escape(b.caption)}</figcaption></figure>")
            elif kind == "details":
                items = "".join(f"<dt>{html.escape(label)}</dt><dd><pre>{html.escape(text)}</pre></dd>"
                                for label, text in b.parts)
                parts.append(f"<details><summary>{html.escape(b.summary)}</summary><dl>{items}</dl></details>")
        parts.append("</body></html>")
        return "\n".join(parts)

    def write(self, folder: str | Path) -> list[Path]:
        """report.md, report.html and plots/*.png, each written atomically."""
        folder = Path(folder)
        written = []
        for kind, b in self.blocks:
            if kind == "img":
                written.append(atomic_write_bytes(folder / "plots" / b.name, b.png))
        atomic_write_text(folder / "report.md", self.markdown())
        atomic_write_text(folder / "report.html", self.html())
        return [*written, folder / "report.md", folder / "report.html"]


def fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _md_cell(v: object) -> str:
    return fmt(v).replace("|", "\\|").replace("\n", " ")


def _html_cell(v: object) -> str:
    if isinstance(v, bool):
        return f"<td class='{'ok' if v else 'bad'}'>{'met' if v else 'missed'}</td>"
    if isinstance(v, (int, float)):
        return f"<td class='num'>{html.escape(fmt(v))}</td>"
    return f"<td class='text'>{html.escape(fmt(v))}</td>"


