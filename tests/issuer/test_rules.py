"""The issuer's rules without a server: options, refusal messages, the tax split, serial prefixes."""

from __future__ import annotations

import pytest

from yakuba.documents import DocumentKind
from yakuba.errors import EligibilityError
from yakuba.issuer.content import _split_tax
from yakuba.issuer.eligibility import (
    OPTIONS_OF_KIND,
    PERSONAL_REASONS,
    ChosenOptions,
    Reason,
    Refusal,
    error_for,
    parse_options,
    pick_positions,
)
from yakuba.issuer.log_entry import serial_prefix
from yakuba.registry import IncomeKind, TaxRecord


def test_every_kind_declares_its_options() -> None:
    assert set(OPTIONS_OF_KIND) == set(DocumentKind)


def test_options_are_parsed_strictly() -> None:
    assert parse_options(DocumentKind.RESIDENT_RECORD, {"members": [2, 0], "show_honseki": True}) == ChosenOptions(
        members=(2, 0), show_honseki=True
    )
    assert parse_options(DocumentKind.TAX, {"fiscal_year": 2025}).fiscal_year == 2025
    for kind, options in [
        (DocumentKind.RESIDENT_RECORD, {"members": []}),
        (DocumentKind.RESIDENT_RECORD, {"members": [0, 0]}),
        (DocumentKind.RESIDENT_RECORD, {"members": [-1]}),
        (DocumentKind.RESIDENT_RECORD, {"show_honseki": 1}),
        (DocumentKind.RESIDENT_RECORD, {"self_only": True, "members": [0]}),
        (DocumentKind.TAX, {"fiscal_year": True}),
        (DocumentKind.SEAL_REGISTRATION, {"show_honseki": True}),
    ]:
        with pytest.raises(Refusal) as caught:
            parse_options(kind, options)
        assert caught.value.reason is Reason.INVALID_OPTION


def test_positions_outside_the_list_are_refused() -> None:
    assert pick_positions(["a", "b", "c"], (2, 0)) == ("a", "c")
    with pytest.raises(Refusal):
        pick_positions(["a"], (1,))


def test_every_personal_reason_reads_the_same_on_the_wire() -> None:
    bodies = {tuple(error_for(reason).to_body().items()) for reason in PERSONAL_REASONS}
    assert bodies == {tuple(EligibilityError().to_body().items())}
    assert Reason.SUPPORT_MEASURE in PERSONAL_REASONS
    assert error_for(Reason.CARD_NOT_REGISTERED).code == "card_not_registered"


def test_resident_tax_is_split_between_city_and_prefecture() -> None:
    record = TaxRecord(
        fiscal_year=2025,
        person_id=1,
        salary_revenue=5_000_000,
        incomes={IncomeKind.SALARY: 3_560_000},
        deductions={"basic": 430_000},
        taxable_income=3_130_000,
        per_capita_tax=5_000,
        income_based_tax=310_500,
        exempt=False,
    )
    assert _split_tax(record) == (4_000 + 186_300, 1_000 + 124_200)
    exempt = TaxRecord(
        fiscal_year=2025,
        person_id=2,
        salary_revenue=0,
        incomes={},
        deductions={},
        taxable_income=0,
        per_capita_tax=0,
        income_based_tax=0,
        exempt=True,
    )
    assert _split_tax(exempt) == (0, 0)


def test_serial_prefix_names_the_system_and_the_municipality() -> None:
    assert serial_prefix(city_code="132292", system="juki") == "J229"
    assert serial_prefix(city_code="132110", system="koseki") == "K211"
