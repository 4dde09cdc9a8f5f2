"""The console over real HTTPS: anonymous and wrong-role refusals, CSRF refusals, the verification page."""

from __future__ import annotations

import httpx
import pytest

from yakuba.clock import JST
from yakuba.network.sample_town import Situation

from .console_support import Town, issue_at_kiosk, log_in, token_of

STAFF_PAGES = [
    "/staff/stats",
    "/staff/settlement",
    "/staff/log",
    "/staff/alerts",
    "/staff/controls",
    "/staff/audit",
    "/staff/encryption",
]
STAFF_FORMS = [
    "/staff/alerts/resume",
    "/staff/controls/suspend",
    "/staff/controls/window",
    "/staff/controls/lift",
    "/staff/audit/verify",
    "/logout",
]


def _error_code(answer: httpx.Response) -> str:
    marker = 'id="error-code">'
    assert marker in answer.text, answer.text[:500]
    return answer.text.split(marker, 1)[1].split("<", 1)[0]


def test_the_console_serves_https_with_a_certificate_of_the_city_backbone_ca(town: Town) -> None:
    assert town.base_url.startswith("https://")
    assert town.console is not None
    assert town.console.certificate is not None
    assert "backbone:132292 CA" in town.console.certificate.issuer
    with town.client() as client:  # verifies the chain to the backbone CA only
        answer = client.get("/health")
    assert answer.json() == {"status": "ok", "role": "console"}
    with httpx.Client(base_url=town.base_url, timeout=30) as public_trust, pytest.raises(httpx.ConnectError):
        public_trust.get("/health")  # not a publicly trusted certificate: the city distributes its CA


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_anonymous_users_are_sent_to_the_login_page(town: Town, path: str) -> None:
    with town.client() as client:
        answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", STAFF_FORMS)
def test_anonymous_form_posts_are_refused(town: Town, path: str) -> None:
    with town.client() as client:
        answer = client.post(path, data={"csrf": "anything", "kind": "juminhyo"})
    assert answer.status_code == 401
    assert _error_code(answer) == "console_session_required"


def test_a_viewer_cannot_open_or_post_the_service_controls(town: Town) -> None:
    with town.client() as client:
        csrf = log_in(client, "viewer")
        assert client.get("/staff/stats").status_code == 200
        page = client.get("/staff/controls")
        assert page.status_code == 403
        assert _error_code(page) == "console_role_required"
        posted = client.post("/staff/controls/suspend", data={"csrf": csrf, "kind": "juminhyo", "note": "x"})
        assert posted.status_code == 403
        assert _error_code(posted) == "console_role_required"
    with town.client() as operator:
        log_in(operator, "operator")
        assert 'class="control active" data-kind="juminhyo"' not in operator.get("/staff/controls").text


def test_an_operator_cannot_resume_a_suspended_city(town: Town) -> None:
    with town.client() as client:
        csrf = log_in(client, "operator")
        answer = client.post("/staff/alerts/resume", data={"csrf": csrf})
    assert answer.status_code == 403
    assert _error_code(answer) == "console_role_required"


def test_form_posts_without_the_session_csrf_token_are_refused(town: Town) -> None:
    with town.client() as other:
        other_csrf = log_in(other, "supervisor")
    with town.client() as client:
        csrf = log_in(client, "operator")
        for data in ({"kind": "inkan"}, {"kind": "inkan", "csrf": ""}, {"kind": "inkan", "csrf": other_csrf}):
            answer = client.post("/staff/controls/suspend", data=data)
            assert answer.status_code == 403
            assert _error_code(answer) == "console_csrf_failed"
        assert 'class="control active" data-kind="inkan"' not in client.get("/staff/controls").text
        # The same form with the page's token goes through, so the refusals above were the token's.
        assert csrf == token_of(client.get("/staff/controls").text)
        logout = client.post("/logout", data={"csrf": csrf})
        assert logout.status_code == 303
        assert client.get("/staff/stats").status_code == 303  # the session ended


def test_login_and_verification_forms_need_their_form_token(town: Town) -> None:
    with town.client() as client:
        answer = client.post("/login", data={"login": "operator", "password": "correct-horse-battery-staple"})
        assert answer.status_code == 403
        assert _error_code(answer) == "console_csrf_failed"
        assert "console_session" not in answer.cookies
        answer = client.post("/verify", data={"serial": "J229-00000001"})
        assert answer.status_code == 403


def test_session_cookies_are_secure_http_only_and_same_site_strict(town: Town) -> None:
    with town.client() as client:
        form = client.get("/login")
        answer = client.post(
            "/login",
            data={
                "login": "viewer",
                "password": "correct-horse-battery-staple",
                "form_token": token_of(form.text),
                "next": "https://evil.example/",
            },
        )
    assert answer.headers["location"] == "/staff/stats"  # no open redirect
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("console_session="))
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_a_wrong_password_is_refused_without_a_session(town: Town) -> None:
    with town.client() as client:
        form = client.get("/login")
        answer = client.post(
            "/login", data={"login": "viewer", "password": "not the password", "form_token": token_of(form.text)}
        )
        assert answer.status_code == 401
        assert _error_code(answer) == "console_login_failed"
        assert client.get("/staff/stats").status_code == 303


def test_the_verification_page_confirms_an_issued_certificate_without_personal_data(town: Town) -> None:
    card = town.town.card(Situation.HOUSEHOLD, city_code="132292")
    receipt = town.run(issue_at_kiosk(town.dep, town.clock, card, "juminhyo"))
    assert receipt.printed
    pdf = receipt.printed[0].read_bytes()
    serial_text = _serial_in(town, receipt.transaction_id)
    with town.client() as client:
        form = client.get("/verify")
        token = token_of(form.text)
        issued_on = f"{town.clock.now().astimezone(JST):%Y-%m-%d}"
        by_serial = client.post("/verify", data={"serial": serial_text, "issued_on": issued_on, "form_token": token})
        wrong_day = client.post("/verify", data={"serial": serial_text, "issued_on": "2020-01-06", "form_token": token})
        by_pdf = client.post(
            "/verify", data={"form_token": token}, files={"file": ("certificate.pdf", pdf, "application/pdf")}
        )
        unknown = client.post("/verify", data={"serial": "J229-99999999", "issued_on": issued_on, "form_token": token})
        tampered = client.post(
            "/verify",
            data={"form_token": token},
            files={"file": ("certificate.pdf", pdf.replace(b"/Type", b"/Tipe", 1), "application/pdf")},
        )
    for answer in (by_serial, by_pdf):
        assert answer.status_code == 200
        assert 'id="verdict">本物の証明書です' in answer.text
        assert serial_text in answer.text
        assert "住民票の写し" in answer.text
    assert "本物と確認できませんでした" in unknown.text
    assert "本物と確認できませんでした" in wrong_day.text  # a serial alone reveals nothing
    assert "住民票の写し" not in wrong_day.text
    assert _finding(wrong_day.text).replace(serial_text, "J229-99999999") == _finding(unknown.text)
    assert "本物と確認できませんでした" in tampered.text
    names = _personal_strings(town, card.person_id)
    for answer in (by_serial, by_pdf):
        for value in names:
            assert value not in answer.text


def _finding(page: str) -> str:
    """The verdict section of a verification page."""
    return page.split('id="finding"', 1)[1].split("</section>", 1)[0]


def _serial_in(town: Town, transaction_id: str) -> str:
    with town.client() as client:
        log_in(client, "viewer")
        page = client.get("/staff/log").text
    row = page.split(transaction_id, 1)[1].split("</tr>", 1)[0]
    return row.rsplit('class="mono">', 1)[1].split("<", 1)[0]


def _personal_strings(town: Town, person_id: int) -> list[str]:
    from yakuba.registry import open_city_registry

    registry = open_city_registry(town.dep, "132292", clock=town.clock)
    try:
        with registry.db.transaction() as tx:
            person = tx.fetch_person(person_id)
    finally:
        registry.db.dispose()
    values = [person.name.family, person.name.given, person.address.town]
    return [v for v in values if v and len(v) >= 2]  # a one-character name could appear by chance


def test_an_upload_larger_than_the_limit_is_refused_before_it_is_read(town: Town) -> None:
    from yakuba.console.app import MAX_BODY_BYTES

    with town.client() as client:
        token = token_of(client.get("/verify").text)
        answer = client.post(
            "/verify",
            data={"form_token": token},
            files={"file": ("big.pdf", b"%PDF-" + b"0" * MAX_BODY_BYTES, "application/pdf")},
        )
    assert answer.status_code == 413
    assert _error_code(answer) == "invalid_input"
