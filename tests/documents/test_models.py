"""The kiosk rules of the content models: who is printed, which options are allowed."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from yakuba.documents import (
    DocumentHeader,
    DocumentKind,
    DocumentRequest,
    ResidentRecordContent,
    ResidentRecordOptions,
    sample_request,
)
from yakuba.documents._samples import sample_household
from yakuba.errors import ValidationError

from .conftest import ISSUED_AT


def _select(members: tuple, options: ResidentRecordOptions, *, allowed: bool = True) -> ResidentRecordContent:
    return ResidentRecordContent.select(
        address="東京都西東京市南町5丁目1番1号",
        head_of_household=members[0].name,
        honseki="東京都西東京市南町五丁目1番地",
        hittosha=members[0].name,
        household=members,
        options=options,
        requested_by=members[0].name,
        city_allows_individual_number=allowed,
    )


def test_removed_members_are_never_selected() -> None:
    _, members = sample_household(3)
    removed = dataclasses.replace(members[2], removed_on=dt.date(2024, 4, 1))
    content = _select((*members[:2], removed, *members[3:]), ResidentRecordOptions())
    assert removed.person_id not in {m.person_id for m in content.members}
    assert len(content.members) == len(members) - 1


def test_removed_member_cannot_be_chosen() -> None:
    _, members = sample_household(3)
    removed = dataclasses.replace(members[1], removed_on=dt.date(2024, 4, 1))
    with pytest.raises(ValidationError, match="not current members"):
        _select((members[0], removed), ResidentRecordOptions(members=(removed.person_id,)))


def test_household_with_member_moving_out_is_refused() -> None:
    _, members = sample_household(4)
    leaving = dataclasses.replace(members[3], moving_out_on=dt.date(2025, 12, 1))
    with pytest.raises(ValidationError, match="move-out"):
        _select((*members[:3], leaving), ResidentRecordOptions())


def test_individual_number_only_where_the_city_allows_it() -> None:
    _, members = sample_household(5)
    with pytest.raises(ValidationError, match="individual number"):
        _select(members, ResidentRecordOptions(show_individual_number=True), allowed=False)


def test_chosen_members_keep_household_order() -> None:
    _, members = sample_household(6)
    content = _select(members, ResidentRecordOptions(members=(members[3].person_id, members[0].person_id)))
    assert [m.person_id for m in content.members] == [members[0].person_id, members[3].person_id]


def test_kind_and_content_must_match() -> None:
    request = sample_request(DocumentKind.TAX, seed=1, issued_at=ISSUED_AT)
    header = dataclasses.replace(request.header, kind=DocumentKind.RESIDENT_RECORD)
    with pytest.raises(ValidationError, match="needs ResidentRecordContent"):
        DocumentRequest(header=header, content=request.content)


def test_header_rejects_bad_serial_and_naive_time() -> None:
    header = sample_request(DocumentKind.TAX, seed=1, issued_at=ISSUED_AT).header
    with pytest.raises(ValidationError, match="serial"):
        dataclasses.replace(header, serial="42")
    with pytest.raises(ValidationError, match="timezone"):
        DocumentHeader.for_city(
            city_code="132292",
            city_name="西東京市",
            mayor_title="西東京市長",
            mayor_name="緑川　一郎",
            kind=DocumentKind.TAX,
            serial="0001-00000001",
            issued_at=dt.datetime(2025, 1, 1),
        )
