"""Render the council's report as one PDF (typst) and one HTML page, each section in Japanese with English."""

from __future__ import annotations

import base64
import html
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import typst

from yakuba.documents._fonts import FontSet

__all__ = ["Block", "Section", "render_html", "render_pdf"]

TEMPLATE = Path(__file__).parent / "council_report.typ"


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """A paragraph (ja, en), a table (head, rows) or a picture (png)."""

    kind: str
    ja: str = ""
    en: str = ""
    head: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    png: bytes = field(default=b"", repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    title: str
    title_en: str
    blocks: tuple[Block, ...]


def render_pdf(*, title: str, title_en: str, generated: str, sections: tuple[Section, ...]) -> bytes:
    """The report as a PDF: data goes in as JSON, pictures as files beside the template."""
    fonts = FontSet.locate()
    with tempfile.TemporaryDirectory(prefix="council-report-") as tmp:
        root = Path(tmp)
        (root / "main.typ").write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
        data_sections = []
        for i, sec in enumerate(sections):
            blocks = []
            for j, b in enumerate(sec.blocks):
                entry: dict[str, object] = {"kind": b.kind, "ja": b.ja, "en": b.en}
                if b.kind == "table":
                    entry |= {"head": list(b.head), "rows": [list(r) for r in b.rows]}
                if b.kind == "image":
                    name = f"figure-{i}-{j}.png"
                    (root / name).write_bytes(b.png)
                    entry["file"] = name
                blocks.append(entry)
            data_sections.append({"title": sec.title, "title_en": sec.title_en, "blocks": blocks})
        data = {"title": title, "title_en": title_en, "generated": generated, "sections": data_sections}
        pdf = typst.compile(
            str(root / "main.typ"),
            root=str(root),
            font_paths=fonts.folders,
            ignore_system_fonts=True,
            sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
        )
    if not isinstance(pdf, bytes):  # pragma: no cover - one document, one PDF
        raise TypeError("typst returned no PDF")
    return pdf


def render_html(*, title: str, title_en: str, generated: str, sections: tuple[Section, ...]) -> str:
    """The report as one self-contained HTML page (pictures inline), every text escaped."""
    e = html.escape
    out = [
        "<!doctype html>",
        '<html lang="ja"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:'IPAexGothic',sans-serif;max-width:60em;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;font-size:90%}"
        ".en{color:#555;font-size:85%}img{max-width:100%}</style></head><body>",
        f'<h1>{e(title)}</h1><p class="en">{e(title_en)}</p><p>{e(generated)}</p>',
    ]
    for sec in sections:
        out.append(f'<section><h2>{e(sec.title)}</h2><p class="en">{e(sec.title_en)}</p>')
        for b in sec.blocks:
            if b.kind == "para":
                out.append(f'<p>{e(b.ja)}<br><span class="en">{e(b.en)}</span></p>')
            elif b.kind == "table":
                head = "".join(f"<th>{e(h)}</th>" for h in b.head)
                body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in b.rows)
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif b.kind == "image":
                out.append(
                    f'<img alt="{e(sec.title_en)}" src="data:image/png;base64,{base64.b64encode(b.png).decode()}">'
                )
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)
