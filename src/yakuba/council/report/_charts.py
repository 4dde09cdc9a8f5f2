"""Charts as pictures (matplotlib, IPAex Gothic for Japanese labels): issuances by month and the encryption map."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a server; chosen before pyplot is imported
from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from yakuba.council.checks import HopProbe
from yakuba.council.report._figures import IssuanceStatistics
from yakuba.documents._fonts import FontSet

__all__ = ["CHART_DPI", "encryption_map_png", "issuances_png"]

CHART_DPI = 150
"""Sharp on A4 print and small enough to embed in both the PDF and the HTML page."""

_ORDER = ("kiosk", "storehq", "center", "jpki", "forwarder", "issuer")


def _font() -> font_manager.FontProperties:
    gothic = FontSet.locate().gothic
    font_manager.fontManager.addfont(str(gothic))
    return font_manager.FontProperties(fname=str(gothic))


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=CHART_DPI, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def issuances_png(stats: IssuanceStatistics, *, japanese: bool) -> bytes:
    """Stacked bars: copies printed per month, one colour per certificate kind."""
    font = _font()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    months = stats.months or ["-"]
    bottom = [0] * len(months)
    for kind in stats.kinds:
        values = [stats.by_kind_month.get((kind, m), 0) for m in months]
        ax.bar(months, values, bottom=bottom, label=kind)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title("月別・種類別の交付通数" if japanese else "Copies issued by month and kind", fontproperties=font)
    ax.set_ylabel("通数" if japanese else "copies", fontproperties=font)
    if stats.kinds:
        ax.legend(prop=font, fontsize=7, ncol=2)
    return _png(fig)


def encryption_map_png(probes: Sequence[HopProbe], *, japanese: bool) -> bytes:
    """Boxes for every role instance by column (kiosk to issuer), an arrow per probed hop labelled with its TLS."""
    font = _font()
    columns: dict[str, list[str]] = {role: [] for role in _ORDER}
    for p in probes:
        client_role = _client_role(p, probes)
        for role, inst in ((client_role, p.client), (p.server_role, p.server)):
            if role in columns and inst not in columns[role]:
                columns[role].append(inst)
    height = max(2, *(len(v) for v in columns.values()))
    fig, ax = plt.subplots(figsize=(11, 1.1 * height + 1.2))
    ax.set_xlim(-0.5, len(_ORDER) - 0.5)
    ax.set_ylim(-0.8, height)
    ax.axis("off")
    where: dict[str, tuple[float, float]] = {}
    for x, role in enumerate(_ORDER):
        ax.text(x, height - 0.3, role, ha="center", fontproperties=font, fontsize=9, weight="bold")
        for y, inst in enumerate(columns[role]):
            cy = height - 1 - y
            where[inst] = (x, cy)
            ax.add_patch(
                FancyBboxPatch((x - 0.42, cy - 0.2), 0.84, 0.4, boxstyle="round,pad=0.02", fc="#eef", ec="#446")
            )
            ax.text(x, cy, inst, ha="center", va="center", fontsize=6.5, fontproperties=font)
    for p in probes:
        if p.client not in where or p.server not in where:
            continue
        ok = p.tls_version is not None and p.anonymous_refused and not p.plain_http
        colour = "#1a7f37" if ok else "#cf222e"
        (x1, y1), (x2, y2) = where[p.client], where[p.server]
        ax.annotate("", xy=(x2 - 0.42, y2), xytext=(x1 + 0.42, y1), arrowprops={"arrowstyle": "->", "color": colour})
        label = f"mTLS {p.tls_version}" if ok else ("平文HTTP" if japanese else "plain HTTP") if p.plain_http else "?"
        ax.text(
            (x1 + x2) / 2, (y1 + y2) / 2 + 0.08, label, fontsize=5.5, color=colour, ha="center", fontproperties=font
        )
    note = (
        "緑: 相互TLS（クライアント証明書必須）。証明書PDFは発行サーバで封緘され、要求した端末だけが開ける。"
        if japanese
        else "Green: mutual TLS (client certificate required). The PDF is sealed at the issuer; only the asking "
        "kiosk can open it."
    )
    ax.text(-0.45, -0.65, note, fontsize=7, fontproperties=font)
    return _png(fig)


def _client_role(probe: HopProbe, probes: Sequence[HopProbe]) -> str:
    seg = probe.segment_id
    if seg.startswith("store:"):
        return "kiosk"
    return {"dedicated": "storehq", "jlis": "center", "lgwan": "center"}.get(seg, "forwarder")
