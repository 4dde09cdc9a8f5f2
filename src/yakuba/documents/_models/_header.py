"""Certificate kinds, the header every certificate carries, and the check helper of the models."""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

from yakuba.errors import ValidationError

__all__ = ["INDIVIDUAL_NUMBER_PATTERN", "SERIAL_PATTERN", "DocumentHeader", "DocumentKind", "require"]

SERIAL_PATTERN = re.compile(r"^[0-9A-Z]{4}-[0-9]{8}$")
"""Serial numbers look like `0001-00000042`: an issuer prefix and a counter, short enough for every page."""

INDIVIDUAL_NUMBER_PATTERN = re.compile(r"^[0-9]{12}$")
"""個人番号 (My Number): twelve digits."""


class DocumentKind(enum.StrEnum):
    """The certificate kinds a kiosk can print; the value is the stable code used in QR and logs."""

    RESIDENT_RECORD = "juminhyo"
    RESIDENT_RECORD_ITEMS = "juminhyo-kisai"
    SEAL_REGISTRATION = "inkan"
    TAX = "kazei"
    INCOME = "shotoku"
    KOSEKI_FULL = "koseki-zenbu"
    KOSEKI_INDIVIDUAL = "koseki-kojin"
    FUHYO = "fuhyo"

    @property
    def title_ja(self) -> str:
        """The title printed at the top of the first page."""
        return _TITLES[self]

    @property
    def certifying_sentence(self) -> str:
        """The sentence by which the mayor certifies the document (認証文)."""
        return _CERTIFYING[self]


_TITLES: dict[DocumentKind, str] = {
    DocumentKind.RESIDENT_RECORD: "住民票の写し",
    DocumentKind.RESIDENT_RECORD_ITEMS: "住民票記載事項証明書",
    DocumentKind.SEAL_REGISTRATION: "印鑑登録証明書",
    DocumentKind.TAX: "課税（非課税）証明書",
    DocumentKind.INCOME: "所得証明書",
    DocumentKind.KOSEKI_FULL: "全部事項証明",
    DocumentKind.KOSEKI_INDIVIDUAL: "個人事項証明",
    DocumentKind.FUHYO: "戸籍の附票の写し",
}

_CERTIFYING: dict[DocumentKind, str] = {
    DocumentKind.RESIDENT_RECORD: "この写しは、住民票の原本と相違ないことを証明する。",
    DocumentKind.RESIDENT_RECORD_ITEMS: "上記の事項は、住民票に記載されていることを証明する。",
    DocumentKind.SEAL_REGISTRATION: "この写しは、登録されている印影と相違ないことを証明する。",
    DocumentKind.TAX: "上記のとおり相違ないことを証明する。",
    DocumentKind.INCOME: "上記のとおり相違ないことを証明する。",
    DocumentKind.KOSEKI_FULL: "これは、戸籍に記録されている事項の全部を証明した書面である。",
    DocumentKind.KOSEKI_INDIVIDUAL: "これは、戸籍中の一部の者について記録されている事項を証明した書面である。",
    DocumentKind.FUHYO: "この写しは、戸籍の附票の原本と相違ないことを証明する。",
}


def require(condition: bool, detail: str, ja: str) -> None:
    if not condition:
        raise ValidationError(detail, ja=ja)


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentHeader:
    """What every certificate carries besides its content: who certifies, when, and its serial."""

    kind: DocumentKind
    city_code: str
    city_name: str
    mayor_title: str
    mayor_name: str
    serial: str
    issued_at: dt.datetime

    def __post_init__(self) -> None:
        require(
            bool(re.fullmatch(r"\d{6}", self.city_code)),
            f"city code {self.city_code!r} is not six digits",
            "団体コードが6桁ではありません",
        )
        require(
            bool(SERIAL_PATTERN.fullmatch(self.serial)),
            f"serial {self.serial!r} does not match {SERIAL_PATTERN.pattern}",
            "証明書番号の形式が正しくありません",
        )
        require(
            self.issued_at.tzinfo is not None, "issued_at must be timezone-aware", "発行日時にタイムゾーンがありません"
        )
        require(bool(self.mayor_title and self.mayor_name), "mayor title and name are required", "市長名がありません")
        # A certificate states its issue time to the second (the QR carries Unix seconds, the PDF its date);
        # keeping finer parts would make the printed, signed and logged times disagree.
        object.__setattr__(self, "issued_at", self.issued_at.replace(microsecond=0))

    @classmethod
    def for_city(
        cls,
        *,
        city_code: str,
        city_name: str,
        mayor_title: str,
        mayor_name: str,
        kind: DocumentKind,
        serial: str,
        issued_at: dt.datetime,
    ) -> DocumentHeader:
        """A header from a city's configuration values (CityConfig has the same names)."""
        return cls(
            kind=kind,
            city_code=city_code,
            city_name=city_name,
            mayor_title=mayor_title,
            mayor_name=mayor_name,
            serial=serial,
            issued_at=issued_at,
        )
