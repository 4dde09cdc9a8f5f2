"""The supervisors' staff-accounts page: a leaver's account disabled from the console ends its open session at
once and refuses its logins; enabled again, it logs in; only supervisors see the page, forms need the CSRF
token, and nobody disables their own account there."""

from __future__ import annotations

import httpx

from yakuba.console.accounts import StaffRole
from yakuba.console.service import ConsoleAccess
from yakuba.console.store import SqlConsoleStore

from .console_support import CITY, PASSWORD, Town, log_in, token_of


def _add(town: Town, login: str) -> None:
    console = town.dep.city(CITY).console
    assert console is not None
    store = SqlConsoleStore.from_url(town.dep.database_url(console.database))
    try:
        ConsoleAccess(store=store, clock=town.clock).add_staff(login=login, role=StaffRole.OPERATOR, password=PASSWORD)
    finally:
        store.dispose()


def _row(page: str, login: str) -> str:
    start = page.index(f'data-login="{login}"')
    return page[page.rindex("<tr", 0, start) : page.index("</tr>", start)]


def _logged_in(client: httpx.Client) -> bool:
    return client.get("/staff/stats").status_code == 200


def test_a_supervisor_disables_a_leaver_whose_open_session_ends_and_enables_the_account_again(town: Town) -> None:
    _add(town, "leaver")
    with town.client() as leaver, town.client() as operator, town.client() as supervisor:
        log_in(leaver, "leaver")
        assert _logged_in(leaver)
        operator_csrf = log_in(operator, "operator")
        assert operator.get("/staff/accounts").status_code == 403  # supervisors only
        assert 'href="/staff/accounts"' not in operator.get("/staff/stats").text
        refused = operator.post("/staff/accounts/disable", data={"csrf": operator_csrf, "login": "leaver"})
        assert refused.status_code == 403
        csrf = log_in(supervisor, "supervisor")
        page = supervisor.get("/staff/accounts").text
        assert 'href="/staff/accounts"' in page
        assert "account active" in _row(page, "leaver")
        forged = supervisor.post("/staff/accounts/disable", data={"csrf": "forged", "login": "leaver"})
        assert forged.status_code == 403
        assert _logged_in(leaver)  # nothing changed by the forged form
        answer = supervisor.post("/staff/accounts/disable", data={"csrf": csrf, "login": "leaver"})
        assert answer.status_code == 303
        page = supervisor.get(answer.headers["location"]).text
        assert 'id="saved"' in page
        assert "account disabled" in _row(page, "leaver")
        assert not _logged_in(leaver)  # the open session ended with the account
        with town.client() as again:  # and the account logs in no more
            form = token_of(again.get("/login").text)
            data = {"login": "leaver", "password": PASSWORD, "form_token": form, "next": "/staff/stats"}
            assert again.post("/login", data=data).status_code != 303
        answer = supervisor.post("/staff/accounts/enable", data={"csrf": csrf, "login": "leaver"})
        assert answer.status_code == 303
        assert "account active" in _row(supervisor.get("/staff/accounts").text, "leaver")
        log_in(leaver, "leaver")
        assert _logged_in(leaver)
        own = supervisor.post("/staff/accounts/disable", data={"csrf": csrf, "login": "supervisor"})
        assert own.status_code == 400
        assert "account active" in _row(supervisor.get("/staff/accounts").text, "supervisor")
        unknown = supervisor.post("/staff/accounts/disable", data={"csrf": csrf, "login": "nobody"})
        assert unknown.status_code == 400
        assert supervisor.post("/staff/accounts/delete", data={"csrf": csrf, "login": "leaver"}).status_code == 422
