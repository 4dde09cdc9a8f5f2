"""Synthetic incomes and the resident-tax assessments they give, per person and fiscal year."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from yakuba.registry._tax_rules import (
    BASIC_DEDUCTION,
    DEPENDENT_DEDUCTION,
    SPOUSE_DEDUCTION,
    assess,
    fiscal_year_on,
    salary_income,
)
from yakuba.registry._values import IncomeKind, Sex
from yakuba.registry.generate._households import Plan

__all__ = ["FISCAL_YEARS_GENERATED", "tax_rows"]

FISCAL_YEARS_GENERATED = 2
"""The current fiscal year and the one before: enough to test the early-June switch either way."""

PENSION_DEDUCTION_65 = 1_100_000
"""公的年金等控除 for people aged 65 or over with pension revenue up to 3.3 million yen."""

SOCIAL_INSURANCE_PERCENT = 15
"""Employee social insurance (health, pension, employment) is about 15 % of salary revenue."""

SPOUSE_INCOME_LIMIT = 480_000
"""A spouse with total income up to this is 控除対象配偶者."""


def _lognormal(rng: random.Random, median: float, sigma: float) -> int:
    return int(median * rng.lognormvariate(0.0, sigma)) // 1000 * 1000


def _incomes(rng: random.Random, sex: Sex, age: int) -> tuple[int, dict[IncomeKind, int]]:
    """(salary revenue, incomes by kind) for someone of SEX and AGE."""
    incomes: dict[IncomeKind, int] = {}
    revenue = 0
    if 16 <= age <= 22:
        if rng.random() < 0.25:
            revenue = rng.randint(100, 1300) * 1000
    elif 23 <= age <= 64:
        employed = rng.random() < (0.88 if sex is Sex.MALE else 0.68)
        if employed:
            revenue = _lognormal(rng, 5_000_000 if sex is Sex.MALE else 2_800_000, 0.45 if sex is Sex.MALE else 0.6)
        elif rng.random() < 0.3:
            incomes[IncomeKind.BUSINESS] = _lognormal(rng, 3_000_000, 0.7)
    elif age >= 65:
        pension = _lognormal(rng, 1_900_000 if sex is Sex.MALE else 1_000_000, 0.35)
        if pension > PENSION_DEDUCTION_65:
            incomes[IncomeKind.PENSION] = pension - PENSION_DEDUCTION_65
        if age < 75 and rng.random() < 0.2:
            revenue = rng.randint(800, 2500) * 1000
    if age >= 20 and rng.random() < 0.05:
        kind = rng.choice((IncomeKind.REAL_ESTATE, IncomeKind.DIVIDEND, IncomeKind.MISC))
        incomes[kind] = _lognormal(rng, 600_000, 0.8)
    if revenue:
        income = salary_income(revenue)
        if income:
            incomes[IncomeKind.SALARY] = income
    return revenue, incomes


def tax_rows(rng: random.Random, plan: Plan, rows: list[dict[str, Any]], as_of: dt.date) -> list[dict[str, Any]]:
    """Assessments of the household's people for the generated fiscal years (those liable on 1 January)."""
    out: list[dict[str, Any]] = []
    latest = fiscal_year_on(as_of)
    for fiscal_year in range(latest - FISCAL_YEARS_GENERATED + 1, latest + 1):
        january = dt.date(fiscal_year, 1, 1)
        figures = []
        for member, row in zip(plan.members, rows, strict=True):
            age = january.year - member.birth_date.year - 1
            gone = row["moved_out_on"] or row["died_on"]
            if age < 16 or row["resident_since"] > january or (gone is not None and gone < january):
                continue
            revenue, incomes = _incomes(rng, member.sex, age)
            figures.append((member, row, revenue, incomes))
        low_income_spouse = any(
            m.role == "spouse" and sum(inc.values()) <= SPOUSE_INCOME_LIMIT for m, _r, _rev, inc in figures
        )
        dependents = sum(
            1 for m, _r, _rev, inc in figures if m.role == "child" and sum(inc.values()) <= SPOUSE_INCOME_LIMIT
        )
        for member, row, revenue, incomes in figures:
            deductions = {
                "basic": BASIC_DEDUCTION,
                "social_insurance": revenue * SOCIAL_INSURANCE_PERCENT // 100,
            }
            supported = 0
            if member.role == "head":
                if low_income_spouse:
                    deductions["spouse"] = SPOUSE_DEDUCTION
                    supported += 1
                if dependents:
                    deductions["dependents"] = DEPENDENT_DEDUCTION * dependents
                    supported += dependents
            result = assess(incomes=incomes, deductions=deductions, dependents=supported)
            out.append(
                {
                    "fiscal_year": fiscal_year,
                    "person_id": row["id"],
                    "salary_revenue": revenue,
                    **{f"income_{kind.value}": incomes.get(kind, 0) for kind in IncomeKind},
                    **{
                        f"deduction_{name}": deductions.get(name, 0)
                        for name in ("basic", "social_insurance", "spouse", "dependents", "other")
                    },
                    "taxable_income": result.taxable_income,
                    "per_capita_tax": result.per_capita_tax,
                    "income_based_tax": result.income_based_tax,
                    "exempt": result.exempt,
                }
            )
    return out
