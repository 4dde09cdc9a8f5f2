"""Viewing: a role, an incident and a purpose; every view logged; drivers refused; streaming with Range."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from tests.recorder.conftest import CARD_START, audit_entries

from yakuba.recorder import Recorder, ViewRefusedError, ingest_card
from yakuba.recorder.service import HoldKind
from yakuba.recorder.web import create_app


@pytest.fixture
def incident(recorder: Recorder, card_dir: Path) -> int:
    ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    return recorder.place_hold(
        staff_id="sup01",
        kind=HoldKind.INCIDENT,
        vehicle_id="T01",
        window_start=CARD_START,
        window_end=CARD_START + dt.timedelta(minutes=5),
        description="mirror clipped a pole",
    )


def test_a_driver_is_refused_and_the_refusal_logged(recorder: Recorder, incident: int, tmp_path: Path) -> None:
    with pytest.raises(ViewRefusedError):
        recorder.grant_view(staff_id="drv01", segment_id=1, basis_hold_id=incident, purpose="see what happened")
    events = [e for e in audit_entries(recorder, tmp_path / "keys") if e.event_type.startswith("footage.view")]
    assert [(e.event_type, e.actor.staff_id) for e in events] == [("footage.view_refused", "drv01")]


async def test_every_view_is_logged_and_streams_with_range(recorder: Recorder, incident: int, tmp_path: Path) -> None:
    token = recorder.grant_view(staff_id="sup01", segment_id=1, basis_hold_id=incident, purpose="accident review")
    recorder.grant_view(staff_id="chief01", segment_id=2, basis_hold_id=incident, purpose="decide on provision")
    views = [e for e in audit_entries(recorder, tmp_path / "keys") if e.event_type == "footage.viewed"]
    assert [(e.actor.staff_id, e.fields["segment_id"]) for e in views] == [("sup01", 1), ("chief01", 2)]
    body = recorder.footage.path_of(recorder.segment(1).sha256).read_bytes()
    transport = httpx.ASGITransport(app=create_app(recorder=recorder))
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        auth = {"authorization": f"Bearer {token}"}
        part = await client.get("/v1/segments/1/stream", headers={**auth, "range": "bytes=0-99"})
        assert part.status_code == 206
        assert part.content == body[:100]
        assert (await client.get("/v1/segments/1/stream", headers=auth)).content == body
        assert (await client.get("/v1/segments/2/stream", headers=auth)).status_code == 401
        assert (await client.get("/v1/segments/1/stream")).status_code == 401


def test_a_view_outside_the_incident_is_refused(recorder: Recorder, incident: int) -> None:
    other = recorder.place_hold(
        staff_id="sup01",
        kind=HoldKind.INCIDENT,
        vehicle_id="T02",
        window_start=CARD_START,
        window_end=CARD_START + dt.timedelta(minutes=5),
        description="other truck",
    )
    with pytest.raises(ViewRefusedError):
        recorder.grant_view(staff_id="sup01", segment_id=1, basis_hold_id=other, purpose="accident review")
