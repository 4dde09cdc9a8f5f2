"""課税（非課税）証明書 and 所得証明書: content from the nightly tax snapshot."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["IncomeCertificateContent", "TaxCertificateContent"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxCertificateContent:
    """課税（非課税）証明書 for one fiscal year, from the nightly tax snapshot taken on `as_of`."""

    fiscal_year: int
    """The fiscal year of the assessment (年度), Gregorian."""
    as_of: dt.date
    """The day the nightly tax snapshot reflects; printed (invariant 4: stale data states its date)."""
    name: str
    address: str
    birth_date: dt.date
    total_income: int
    """合計所得金額 (yen)."""
    deductions: int
    """所得控除額合計 (yen)."""
    taxable_income: int
    """課税標準額 (yen)."""
    municipal_tax: int
    """市民税 (yen)."""
    prefectural_tax: int
    """都道府県民税 (yen)."""
    dependents: int
    """扶養人数."""

    @property
    def taxable(self) -> bool:
        return self.municipal_tax + self.prefectural_tax > 0

    @property
    def subject_name(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomeCertificateContent:
    """所得証明書 for one fiscal year, from the nightly tax snapshot taken on `as_of`."""

    fiscal_year: int
    as_of: dt.date
    name: str
    address: str
    birth_date: dt.date
    salary_revenue: int
    """給与収入 (yen)."""
    salary_income: int
    """給与所得 (yen)."""
    other_income: int
    """その他の所得 (yen)."""
    total_income: int
    """合計所得金額 (yen)."""

    @property
    def subject_name(self) -> str:
        return self.name
