"""Tax: the fiscal year switches in early June; the issuer reads the nightly snapshot and states its date."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from yakuba.clock import JST, FixedClock
from yakuba.registry import (
    FISCAL_YEAR_SWITCH,
    IncomeKind,
    LifeEvents,
    RegistryDatabase,
    TaxRecord,
    fiscal_year_on,
    run_tax_batch,
)
from yakuba.registry._tax_rules import EXEMPT_INCOME_LIMIT_SINGLE, PER_CAPITA_TAX, assess, salary_income

from .registry_testdata import family


def test_fiscal_year_switches_on_the_first_of_june() -> None:
    assert FISCAL_YEAR_SWITCH == (6, 1)
    assert fiscal_year_on(dt.date(2025, 5, 31)) == 2024
    assert fiscal_year_on(dt.date(2025, 6, 1)) == 2025
    assert fiscal_year_on(dt.date(2026, 1, 5)) == 2025


def test_assessment_rules() -> None:
    assert salary_income(5_000_000) == 5_000_000 - (1_000_000 + 440_000)
    exempt = assess(incomes={IncomeKind.SALARY: EXEMPT_INCOME_LIMIT_SINGLE}, deductions={}, dependents=0)
    assert exempt.exempt
    assert exempt.per_capita_tax == 0
    taxed = assess(incomes={IncomeKind.SALARY: 3_560_000}, deductions={"basic": 430_000}, dependents=0)
    assert not taxed.exempt
    assert taxed.per_capita_tax == PER_CAPITA_TAX
    assert taxed.taxable_income == 3_130_000
    assert taxed.income_based_tax == 310_500


def _record(person_id: int, salary: int) -> TaxRecord:
    result = assess(incomes={IncomeKind.SALARY: salary}, deductions={"basic": 430_000}, dependents=0)
    return TaxRecord(
        fiscal_year=2025,
        person_id=person_id,
        salary_revenue=0,
        incomes={IncomeKind.SALARY: salary},
        deductions={"basic": 430_000},
        taxable_income=result.taxable_income,
        per_capita_tax=result.per_capita_tax,
        income_based_tax=result.income_based_tax,
        exempt=result.exempt,
    )


def test_snapshot_states_its_as_of_date_and_lags_the_tax_system(
    events: LifeEvents, db: RegistryDatabase, clock: FixedClock
) -> None:
    husband, _wife = family(events)
    with db.transaction() as tx:
        assert tx.fetch_tax_statement(person_id=husband.id, fiscal_year=2025) is None  # no batch has run yet
        tx.upsert_assessment(_record(husband.id, 4_000_000))
    clock.set(dt.datetime(2025, 11, 27, 2, 0, tzinfo=JST))  # the batch runs after midnight
    snapshot = run_tax_batch(db.transaction, clock=clock)
    assert snapshot.as_of == dt.date(2025, 11, 26)
    with db.transaction() as tx:
        # The tax office corrects the assessment during the day: the issuer still sees last night's data.
        tx.upsert_assessment(_record(husband.id, 6_000_000))
        statement = tx.fetch_tax_statement(person_id=husband.id, fiscal_year=2025)
        history = tx.fetch_history(aggregate="tax_snapshot", aggregate_id=str(snapshot.id))
    assert statement is not None
    assert statement.snapshot.as_of == dt.date(2025, 11, 26)
    assert statement.record.incomes[IncomeKind.SALARY] == 4_000_000
    assert [h.event for h in history] == ["tax_snapshot_loaded"]
    clock.advance(dt.timedelta(days=1))
    run_tax_batch(db.transaction, clock=clock)
    with db.transaction() as tx:
        statement = tx.fetch_tax_statement(person_id=husband.id, fiscal_year=2025)
    assert statement is not None
    assert statement.snapshot.as_of == dt.date(2025, 11, 27)
    assert statement.record == dataclasses.replace(_record(husband.id, 6_000_000))


def test_old_snapshots_are_dropped(events: LifeEvents, db: RegistryDatabase, clock: FixedClock) -> None:
    from yakuba.registry.store._tax import SNAPSHOTS_KEPT

    for _ in range(SNAPSHOTS_KEPT + 2):
        run_tax_batch(db.transaction, clock=clock)
        clock.advance(dt.timedelta(days=1))
    assert db.count_rows()["tax_snapshots"] == SNAPSHOTS_KEPT


@pytest.mark.parametrize("missing_year", [2023])
def test_no_record_for_a_year_not_assessed(
    events: LifeEvents, db: RegistryDatabase, clock: FixedClock, missing_year: int
) -> None:
    husband, _wife = family(events)
    with db.transaction() as tx:
        tx.upsert_assessment(_record(husband.id, 4_000_000))
    run_tax_batch(db.transaction, clock=clock)
    with db.transaction() as tx:
        assert tx.fetch_tax_statement(person_id=husband.id, fiscal_year=missing_year) is None
