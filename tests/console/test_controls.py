"""Service controls set in the console are enforced where requests are decided (the city's issuer) and the
refusal, in Japanese and English, reaches the kiosk; statistics and every staff page reflect the live town."""

from __future__ import annotations

import datetime as dt
import re
import time

import httpx
import pytest

from yakuba.clock import JST
from yakuba.config import segments
from yakuba.errors import KindSuspendedError, MaintenanceError, ServiceClosedError
from yakuba.issuer.service_controls import ServiceControl, check_controls, new_window
from yakuba.network.sample_town import Situation

from .console_support import Town, issue_at_kiosk, log_in

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=JST)

INTEGRATION_WAIT_S = 30
"""How long a test waits for an issuer to sequence a new audit entry into its tree (it does so every second)."""


def _control(**changes: object) -> ServiceControl:
    values: dict[str, object] = {
        "id": 1,
        "kind": "juminhyo",
        "starts_at": None,
        "ends_at": None,
        "note": "",
        "created_at": NOW,
        "created_by": "staff:test",
    }
    values.update(changes)
    return ServiceControl(**values)  # type: ignore[arg-type]


def test_check_controls_refuses_only_what_a_control_covers_now() -> None:
    check_controls([_control(kind="inkan")], kind="juminhyo", at=NOW)  # another kind
    check_controls([_control(lifted_at=NOW)], kind="juminhyo", at=NOW)  # lifted
    later = _control(kind=None, starts_at=NOW + dt.timedelta(hours=1), ends_at=NOW + dt.timedelta(hours=2))
    check_controls([later], kind="juminhyo", at=NOW)  # a window not begun
    check_controls([later], kind="juminhyo", at=NOW + dt.timedelta(hours=2))  # a window ended
    with pytest.raises(KindSuspendedError):
        check_controls([_control()], kind="juminhyo", at=NOW)
    with pytest.raises(MaintenanceError) as window:
        check_controls([later], kind="koseki-zenbu", at=NOW + dt.timedelta(minutes=90))
    assert "12時00分" in window.value.text_ja
    assert "12:00" in window.value.text_en
    assert isinstance(window.value, ServiceClosedError)


def test_maintenance_windows_must_end_after_they_start_and_in_the_future() -> None:
    from yakuba.errors import ValidationError

    with pytest.raises(ValidationError):
        new_window(starts_at=NOW, ends_at=NOW, note="", at=NOW, by="x")
    with pytest.raises(ValidationError):
        new_window(starts_at=NOW - dt.timedelta(hours=2), ends_at=NOW - dt.timedelta(hours=1), note="", at=NOW, by="x")
    with pytest.raises(ValidationError):
        new_window(starts_at=NOW, ends_at=NOW + dt.timedelta(days=30), note="", at=NOW, by="x")


def _active_control_ids(page: str, kind: str) -> list[tuple[str, str]]:
    """(issuer, control id) of the active controls of KIND listed on the controls page."""
    rows = re.findall(r'<tr class="control active" data-kind="([^"]*)">(.*?)</tr>', page, re.S)
    found = []
    for row_kind, body in rows:
        if row_kind == kind:
            issuer = re.search(r'name="issuer" value="([^"]+)"', body)
            control = re.search(r'name="control_id" value="([^"]+)"', body)
            assert issuer is not None
            assert control is not None
            found.append((issuer.group(1), control.group(1)))
    return found


def test_a_suspended_kind_is_refused_at_the_kiosk_until_lifted(town: Town) -> None:
    card = town.town.card(Situation.HOUSEHOLD, city_code="132292")
    with town.client() as client:
        csrf = log_in(client, "operator")
        answer = client.post("/staff/controls/suspend", data={"csrf": csrf, "kind": "juminhyo", "note": "点検"})
        assert answer.status_code == 303
        with pytest.raises(KindSuspendedError) as refused:
            town.run(issue_at_kiosk(town.dep, town.clock, card, "juminhyo"))
        assert refused.value.text_ja == KindSuspendedError.message_ja
        assert refused.value.text_en == KindSuspendedError.message_en
        assert town.run(issue_at_kiosk(town.dep, town.clock, card, "kazei")).printed  # other kinds go on
        audited = _audit_page_once_integrated(client, "nishitokyo-issuer-juki", "service.kind_suspended")
        assert "console/nishitokyo-console (operator)" in audited
        for issuer, control_id in _active_control_ids(client.get("/staff/controls").text, "juminhyo"):
            lifted = client.post(
                "/staff/controls/lift", data={"csrf": csrf, "issuer": issuer, "control_id": control_id}
            )
            assert lifted.status_code == 303
    assert town.run(issue_at_kiosk(town.dep, town.clock, card, "juminhyo")).printed


def test_a_maintenance_window_refuses_every_kind_with_its_end_time(town: Town) -> None:
    card = town.town.card(Situation.HOUSEHOLD, city_code="132292")
    now = town.clock.now().astimezone(JST)
    ends = now + dt.timedelta(hours=1)
    with town.client() as client:
        csrf = log_in(client, "supervisor")
        answer = client.post(
            "/staff/controls/window",
            data={
                "csrf": csrf,
                "starts": (now - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
                "ends": ends.strftime("%Y-%m-%dT%H:%M"),
                "note": "registry upgrade",
            },
        )
        assert answer.status_code == 303
        with pytest.raises(MaintenanceError) as refused:
            town.run(issue_at_kiosk(town.dep, town.clock, card, "kazei"))
        assert f"{ends:%H時%M分}まで" in refused.value.text_ja
        assert f"{ends:%H:%M}" in refused.value.text_en
        for issuer, control_id in _active_control_ids(client.get("/staff/controls").text, ""):
            client.post("/staff/controls/lift", data={"csrf": csrf, "issuer": issuer, "control_id": control_id})
        assert not _active_control_ids(client.get("/staff/controls").text, "")
    assert town.run(issue_at_kiosk(town.dep, town.clock, card, "kazei")).printed


def _audit_page_once_integrated(client: httpx.Client, log: str, event_type: str) -> str:
    """The newest audit page of LOG once it shows EVENT_TYPE (the issuer integrates pending entries every
    second); fails after INTEGRATION_WAIT_S."""
    deadline = time.monotonic() + INTEGRATION_WAIT_S
    while True:
        page = client.get("/staff/audit", params={"log": log}).text
        if event_type in page or time.monotonic() > deadline:
            assert event_type in page
            return page.split(event_type, 1)[1].split("</tr>", 1)[0]
        time.sleep(0.5)


def _number(page: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}">([\d,]+)<', page)
    assert found, element_id
    return int(found.group(1).replace(",", ""))


def test_statistics_count_the_issuance_just_made(town: Town) -> None:
    card = town.town.card(Situation.SEAL, city_code="132292")
    with town.client() as client:
        log_in(client, "viewer")
        before = client.get("/staff/stats").text
        receipt = town.run(issue_at_kiosk(town.dep, town.clock, card, "inkan"))
        after = client.get("/staff/stats").text
        log = client.get("/staff/log").text
    assert _number(after, "total-transactions") == _number(before, "total-transactions") + 1
    assert _number(after, "total-copies") == _number(before, "total-copies") + len(receipt.printed)
    assert _number(after, "total-yen") == _number(before, "total-yen") + receipt.charged_yen
    assert receipt.transaction_id in log
    hour = f"{town.clock.now().astimezone(JST):%H}"
    in_hour = re.search(rf'id="chart-hour".*?data-label="{hour}">(\d+)<', after, re.S)
    assert in_hour is not None
    assert int(in_hour.group(1)) >= 1
    assert re.search(r'id="chart-kind".*?data-label="inkan">(\d+)<', after, re.S)


def test_a_viewer_sees_every_staff_page_and_the_map_lists_every_hop(town: Town) -> None:
    with town.client() as client:
        csrf = log_in(client, "viewer")
        for path in ("/staff/stats", "/staff/settlement", "/staff/log", "/staff/alerts", "/staff/audit"):
            assert client.get(path).status_code == 200, path
        english = client.get("/staff/stats?lang=en")
        assert "Issuance statistics" in english.text
        assert "交付統計" in client.get("/staff/stats?lang=ja").text
        verified = client.post("/staff/audit/verify", data={"csrf": csrf, "log": "nishitokyo-issuer-juki"})
        assert 'id="log-check"' in verified.text
        assert "Verified" in verified.text or "検証成功" in verified.text
        proof = client.get("/staff/audit/prove", params={"log": "nishitokyo-issuer-juki", "index": 0})
        assert "inclusion proven against the signed checkpoint" in proof.text
        page = client.get("/staff/encryption").text
    servers = {(seg.id, member.instance) for seg in segments(town.dep) for member in seg.servers}
    listed = set(re.findall(r'data-segment="([^"]+)" data-server="([^"]+)"', page))
    assert servers | {("console", "nishitokyo-console")} == listed
    assert 'class="hop bad"' not in page
    assert "data:image/png;base64," in page


def suspend_city_as_the_center_does(town: Town, city: str = "132292") -> None:
    """What the center records when a city answers a transaction with another's (yakuba.center.service)."""
    from yakuba.center.ports import CitySuspension
    from yakuba.center.service import ANSWER_MISMATCH
    from yakuba.center.store import SqlSettlementStore
    from yakuba.database import make_engine

    engine = make_engine(town.dep.database_url(town.dep.center.database))
    try:
        SqlSettlementStore(engine=engine).suspend_city(
            CitySuspension(
                city=city, reason=ANSWER_MISMATCH, transaction_id="tx-integrity-check", suspended_at=town.clock.now()
            )
        )
    finally:
        engine.dispose()


def test_an_integrity_alert_stops_the_city_until_a_supervisor_resumes_it(town: Town) -> None:
    from yakuba.center.errors import CitySuspendedError

    card = town.town.card(Situation.HOUSEHOLD, city_code="132292")
    suspend_city_as_the_center_does(town)
    with pytest.raises(ServiceClosedError) as refused:
        town.run(issue_at_kiosk(town.dep, town.clock, card, "juminhyo"))
    assert refused.value.text_ja == CitySuspendedError.message_ja
    with town.client() as operator:
        csrf = log_in(operator, "operator")
        page = operator.get("/staff/alerts").text
        assert 'id="suspension"' in page
        assert "answer_mismatch" in page
        assert 'id="resume"' not in page  # only a supervisor sees the button
        assert operator.post("/staff/alerts/resume", data={"csrf": csrf}).status_code == 403
    with pytest.raises(ServiceClosedError):
        town.run(issue_at_kiosk(town.dep, town.clock, card, "juminhyo"))
    with town.client() as supervisor:
        csrf = log_in(supervisor, "supervisor")
        assert 'id="resume"' in supervisor.get("/staff/alerts").text
        answer = supervisor.post("/staff/alerts/resume", data={"csrf": csrf})
        assert answer.status_code == 303
        after = supervisor.get(answer.headers["location"]).text
        assert 'id="no-alert"' in after
        assert 'id="resumed"' in after
    assert town.run(issue_at_kiosk(town.dep, town.clock, card, "juminhyo")).printed
