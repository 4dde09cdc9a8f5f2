"""Resident-tax rules the registry needs: the fiscal year in force on a day, and a simplified assessment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from yakuba.registry._values import IncomeKind

__all__ = [
    "BASIC_DEDUCTION",
    "DEPENDENT_DEDUCTION",
    "EXEMPT_INCOME_LIMIT_SINGLE",
    "FISCAL_YEAR_SWITCH",
    "INCOME_BASED_RATE_PERCENT",
    "PER_CAPITA_TAX",
    "Assessment",
    "assess",
    "fiscal_year_on",
    "salary_income",
]

FISCAL_YEAR_SWITCH = (6, 1)
"""(month, day) the kiosk switches to the new 課税年度: assessments are fixed and notices sent in early June."""

PER_CAPITA_TAX = 5_000
"""均等割 from FY2024: city 3,000 + prefecture 1,000 + 森林環境税 1,000 yen."""

INCOME_BASED_RATE_PERCENT = 10
"""所得割: city 6 % + prefecture 4 % of taxable income."""

ADJUSTMENT_CREDIT = 2_500
"""調整控除 for taxable income up to 2 million yen in the simple case (5 % of the 50,000-yen basic gap)."""

BASIC_DEDUCTION = 430_000
"""基礎控除 of resident tax for total income up to 24 million yen."""

SPOUSE_DEDUCTION = 330_000
"""配偶者控除 of resident tax (taxpayer income up to 9 million yen, spouse income up to 480,000 yen)."""

DEPENDENT_DEDUCTION = 330_000
"""一般扶養控除 of resident tax per dependent aged 16 or over."""

EXEMPT_INCOME_LIMIT_SINGLE = 450_000
"""非課税 (均等割 too) in a 1級地 such as Nishitokyo: total income up to 450,000 yen with no dependents."""

EXEMPT_PER_PERSON = 350_000
"""With dependents the exempt limit is 350,000 x (1 + dependents) + 100,000 + 210,000 yen (1級地)."""


def fiscal_year_on(day: dt.date) -> int:
    """The 課税年度 a certificate issued on DAY is for: this year's from the early-June switch, else last year's."""
    return day.year if (day.month, day.day) >= FISCAL_YEAR_SWITCH else day.year - 1


def salary_income(revenue: int) -> int:
    """給与所得 from 給与収入 after 給与所得控除 (2020 onward table, simplified to its formula bands)."""
    if revenue <= 550_000:
        return 0
    if revenue <= 1_625_000:
        return revenue - 550_000
    if revenue <= 1_800_000:
        return revenue - (revenue * 40 // 100 - 100_000)
    if revenue <= 3_600_000:
        return revenue - (revenue * 30 // 100 + 80_000)
    if revenue <= 6_600_000:
        return revenue - (revenue * 20 // 100 + 440_000)
    if revenue <= 8_500_000:
        return revenue - (revenue * 10 // 100 + 1_100_000)
    return revenue - 1_950_000


class Assessment:
    """The figures of one assessment, computed from incomes and deductions."""

    __slots__ = ("exempt", "income_based_tax", "per_capita_tax", "taxable_income")

    def __init__(self, *, taxable_income: int, per_capita_tax: int, income_based_tax: int, exempt: bool) -> None:
        self.taxable_income = taxable_income
        self.per_capita_tax = per_capita_tax
        self.income_based_tax = income_based_tax
        self.exempt = exempt


def assess(*, incomes: Mapping[IncomeKind, int], deductions: Mapping[str, int], dependents: int) -> Assessment:
    """Taxable income and resident tax from INCOMES and DEDUCTIONS (yen); DEPENDENTS counts spouse and others."""
    total = sum(incomes.values())
    limit = EXEMPT_INCOME_LIMIT_SINGLE if dependents == 0 else EXEMPT_PER_PERSON * (1 + dependents) + 100_000 + 210_000
    if total <= limit:
        return Assessment(taxable_income=0, per_capita_tax=0, income_based_tax=0, exempt=True)
    taxable = max(0, total - sum(deductions.values())) // 1000 * 1000
    income_based = max(0, taxable * INCOME_BASED_RATE_PERCENT // 100 - ADJUSTMENT_CREDIT) // 100 * 100
    return Assessment(
        taxable_income=taxable, per_capita_tax=PER_CAPITA_TAX, income_based_tax=income_based, exempt=False
    )
