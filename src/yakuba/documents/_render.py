"""The printed (certified) view of each kind, the field fits, and SVG wrapping of per-document images."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import unicodedata
from typing import Any

import rfc8785

from yakuba.clock import JST
from yakuba.documents._models import (
    DocumentKind,
    DocumentRequest,
    FuhyoContent,
    IncomeCertificateContent,
    KosekiContent,
    KosekiEvent,
    ResidentRecordContent,
    ResidentRecordItemsContent,
    SealCertificateContent,
    TaxCertificateContent,
)
from yakuba.documents.errors import FieldTooLongError
from yakuba.wareki import era_year, format_wareki, full_width

__all__ = ["CertifiedView", "certified_view", "png_as_svg", "text_width"]

# Field widths in em (one full-width character = 1 em), measured on the templates; a value wider than its
# field is refused (FieldTooLongError), never cut off or shrunk.
NAME_EMS = 13.0
"""氏名 at 12.5 pt in a 58 mm cell (the narrowest name cell, 住民票の写し's member block): one line."""
KANA_EMS = 22.0
"""フリガナ at 7.5 pt above the name in the same 58 mm cell: one line."""
ADDRESS_EMS = 80.0
"""住所・本籍 at 10 pt: two lines of the 147 mm address cell; a third line breaks the page rhythm."""
SHORT_EMS = 12.0
"""続柄, 性別, registration numbers: half of a 58 mm cell at 10 pt."""
KOSEKI_LINE_EMS = 38.0
"""One 【label】value line of a 身分事項 at 9.5 pt in the 110 mm column."""

_HALF_WIDTH_EMS = 0.55
"""Latin letters and digits of IPAex are proportional, about half an em."""


def text_width(text: str) -> float:
    """Printed width of TEXT in em: full-width (CJK, kana, full-width forms) 1, everything else ~0.55."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else _HALF_WIDTH_EMS for ch in text)


def _fit(field: str, value: str, limit: float) -> str:
    width = text_width(value)
    if width > limit:
        raise FieldTooLongError(field=field, width=round(width, 2), limit=limit)
    return value


def png_as_svg(png: bytes, *, width: int, height: int) -> str:
    """A PNG wrapped in SVG, the one way typst takes per-document image bytes through its string inputs."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<image width="{width}" height="{height}" xlink:href="data:image/png;base64,{data}"/></svg>'
    )


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _given(name: str) -> str:
    parts = name.replace("\u3000", " ").split(" ")
    return parts[-1] if len(parts) > 1 else name


def _events(events: tuple[KosekiEvent, ...]) -> list[dict[str, Any]]:
    return [
        {
            "heading": _fit("身分事項", event.heading, SHORT_EMS),
            "lines": [[label, _fit(f"【{label}】", value, KOSEKI_LINE_EMS)] for label, value in event.lines],
        }
        for event in events
    ]


def _resident_record(c: ResidentRecordContent) -> dict[str, Any]:
    o = c.options
    return {
        "address": _fit("住所", c.address, ADDRESS_EMS),
        "head": _fit("世帯主", c.head_of_household, NAME_EMS),
        "show_honseki": o.show_honseki,
        "honseki": _fit("本籍", c.honseki, ADDRESS_EMS) if o.show_honseki else "",
        "hittosha": _fit("筆頭者", c.hittosha, NAME_EMS) if o.show_honseki else "",
        "show_relationship": o.show_relationship,
        "show_individual_number": o.show_individual_number,
        "members": [
            {
                "name": _fit("氏名", m.name, NAME_EMS),
                "kana": _fit("フリガナ", m.name_kana, KANA_EMS),
                "birth": format_wareki(m.birth_date),
                "sex": m.sex,
                "relationship": _fit("続柄", m.relationship, SHORT_EMS) if o.show_relationship else "",
                "became_resident": format_wareki(m.became_resident_on),
                "address_set": format_wareki(m.address_set_on),
                "previous_address": _fit("前住所", m.previous_address, ADDRESS_EMS),
                # 個人番号 only when chosen; 住民票コード never (it is not even passed to the layout).
                "individual_number": (m.individual_number or "") if o.show_individual_number else "",
            }
            for m in c.members
        ],
    }


def _items(c: ResidentRecordItemsContent) -> dict[str, Any]:
    return {
        "name": _fit("氏名", c.name, NAME_EMS),
        "kana": _fit("フリガナ", c.name_kana, KANA_EMS),
        "birth": format_wareki(c.birth_date),
        "sex": c.sex,
        "address": _fit("住所", c.address, ADDRESS_EMS),
        "became_resident": format_wareki(c.became_resident_on),
        "head": _fit("世帯主", c.head_of_household, NAME_EMS),
        "relationship": _fit("続柄", c.relationship, SHORT_EMS),
    }


def _seal_registration(c: SealCertificateContent) -> dict[str, Any]:
    return {
        "registration_number": _fit("登録番号", c.registration_number, SHORT_EMS),
        "name": _fit("氏名", c.name, NAME_EMS),
        "birth": format_wareki(c.birth_date),
        "sex": c.sex,
        "address": _fit("住所", c.address, ADDRESS_EMS),
        "registered": format_wareki(c.registered_on),
        "impression_sha256": hashlib.sha256(c.impression_png).hexdigest(),
    }


def _tax(c: TaxCertificateContent) -> dict[str, Any]:
    return {
        "fiscal_year": f"{era_year(_fiscal_start(c.fiscal_year))}度",
        "address": _fit("住所", c.address, ADDRESS_EMS),
        "name": _fit("氏名", c.name, NAME_EMS),
        "birth": format_wareki(c.birth_date),
        "rows": [
            ["合計所得金額", _yen(c.total_income)],
            ["所得控除額合計", _yen(c.deductions)],
            ["課税標準額", _yen(c.taxable_income)],
            ["市町村民税額", _yen(c.municipal_tax)],
            ["道府県民税額", _yen(c.prefectural_tax)],
            ["税額合計", _yen(c.municipal_tax + c.prefectural_tax)],
            ["扶養親族の数", f"{c.dependents}人"],
        ],
        "status": "課　税" if c.taxable else "非　課　税",
        "note": f"この証明書は{format_wareki(c.as_of)}現在の課税資料に基づいて作成しています。",
    }


def _income(c: IncomeCertificateContent) -> dict[str, Any]:
    return {
        "fiscal_year": f"{era_year(_fiscal_start(c.fiscal_year))}度"
        f"（{era_year(_fiscal_start(c.fiscal_year - 1))}分所得）",
        "address": _fit("住所", c.address, ADDRESS_EMS),
        "name": _fit("氏名", c.name, NAME_EMS),
        "birth": format_wareki(c.birth_date),
        "rows": [
            ["給与収入金額", _yen(c.salary_revenue)],
            ["給与所得金額", _yen(c.salary_income)],
            ["その他の所得金額", _yen(c.other_income)],
            ["合計所得金額", _yen(c.total_income)],
        ],
        "status": "",
        "note": f"この証明書は{format_wareki(c.as_of)}現在の課税資料に基づいて作成しています。",
    }


def _koseki(c: KosekiContent) -> dict[str, Any]:
    return {
        "honseki": _fit("本籍", full_width(c.honseki), ADDRESS_EMS),
        "hittosha": _fit("氏名", c.hittosha, NAME_EMS),
        "register_events": _events(c.register_events),
        "persons": [
            {
                "given_name": _fit("名", _given(p.name), NAME_EMS),
                "removed": p.removed,
                "lines": [
                    ["生年月日", format_wareki(p.birth_date, wide=True)],
                    *([["配偶者区分", "夫" if p.relationship.endswith("男") else "妻"]] if p.spouse else []),
                    ["父", _fit("【父】", p.father, NAME_EMS)],
                    ["母", _fit("【母】", p.mother, NAME_EMS)],
                    ["続柄", _fit("【続柄】", p.relationship, SHORT_EMS)],
                ],
                "events": _events(p.events),
            }
            for p in c.persons
        ],
    }


def _fuhyo(c: FuhyoContent) -> dict[str, Any]:
    return {
        "honseki": _fit("本籍", c.honseki, ADDRESS_EMS),
        "hittosha": _fit("筆頭者", c.hittosha, NAME_EMS),
        "persons": [
            {
                "name": _fit("氏名", p.name, NAME_EMS),
                "birth": format_wareki(p.birth_date) + "生",
                "history": [[_fit("住所", h.address, ADDRESS_EMS), format_wareki(h.set_on)] for h in p.history],
            }
            for p in c.persons
        ],
    }


def _fiscal_start(fiscal_year: int) -> dt.date:
    """Japanese fiscal years (年度) start on 1 April."""
    return dt.date(fiscal_year, 4, 1)


def _body(request: DocumentRequest) -> dict[str, Any]:
    c = request.content
    match c:
        case ResidentRecordContent():
            return _resident_record(c)
        case ResidentRecordItemsContent():
            return _items(c)
        case SealCertificateContent():
            return _seal_registration(c)
        case TaxCertificateContent():
            return _tax(c)
        case IncomeCertificateContent():
            return _income(c)
        case KosekiContent():
            return _koseki(c)
        case FuhyoContent():
            return _fuhyo(c)
    raise AssertionError(f"no layout for {type(c).__name__}")  # pragma: no cover - the union is closed


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CertifiedView:
    """Exactly what the certificate prints, as canonical JSON (RFC 8785); its SHA-256 goes into the QR."""

    canonical: bytes
    fields: dict[str, Any]

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.canonical).digest()


def certified_view(request: DocumentRequest) -> CertifiedView:
    """The printed values of REQUEST (header and body), refused if a value does not fit its field."""
    h = request.header
    issued_local = h.issued_at.astimezone(JST)
    fields: dict[str, Any] = {
        "version": 1,
        "kind": h.kind.value,
        "title": h.kind.title_ja,
        "city_code": h.city_code,
        "city": h.city_name,
        "mayor": h.mayor_title,
        "mayor_name": h.mayor_name,
        "serial": h.serial,
        "issued_at": issued_local.isoformat(timespec="seconds"),
        "issued": format_wareki(issued_local.date(), wide=h.kind in _WIDE_KINDS),
        "sentence": h.kind.certifying_sentence,
        "person": _fit("対象者", request.content.subject_name, NAME_EMS),
        "body": _body(request),
    }
    return CertifiedView(canonical=rfc8785.dumps(fields), fields=fields)


_WIDE_KINDS = frozenset({DocumentKind.KOSEKI_FULL, DocumentKind.KOSEKI_INDIVIDUAL})
"""The family register prints full-width digits."""
