"""The staff pages: statistics, settlement, the issuance log, alerts, service controls, audit log, encryption map.

Every page needs a staff session (else the login page) and a role (else a refusal page); every form post needs
the session's CSRF token.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from yakuba.clock import JST
from yakuba.console.accounts import StaffRole
from yakuba.console.app import ConsoleState, State, current_session
from yakuba.console.audit_browser import city_log_names, prove_entry, read_page, verify_whole_log
from yakuba.console.city import LOG_PAGE_SIZE
from yakuba.console.encryption_map import build_encryption_map
from yakuba.console.issuance_stats import day_statistics
from yakuba.console.rendering import language
from yakuba.console.service import StaffSession, check_csrf
from yakuba.documents import DocumentKind
from yakuba.errors import ValidationError
from yakuba.forwarder.routing import SYSTEM_OF_KIND

__all__ = ["build_staff_router"]

_log = logging.getLogger("yakuba.console")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _needs(role: StaffRole) -> Callable[..., StaffSession]:
    def dependency(request: Request, state: State) -> StaffSession:
        session = current_session(request, state)
        session.require(role)
        return session

    return dependency


Viewer = Annotated[StaffSession, Depends(_needs(StaffRole.VIEWER))]
Operator = Annotated[StaffSession, Depends(_needs(StaffRole.OPERATOR))]
Supervisor = Annotated[StaffSession, Depends(_needs(StaffRole.SUPERVISOR))]
Csrf = Annotated[str, Form(max_length=128)]


def _page(state: ConsoleState, request: Request, template: str, session: StaffSession, **context: Any) -> HTMLResponse:
    return state.pages.render(request, template, session=session, city=state.city, **context)


def _kinds() -> list[tuple[str, str]]:
    return [(kind.value, kind.title_ja) for kind in DocumentKind if kind.value in SYSTEM_OF_KIND]


def _parse_local(text: str) -> dt.datetime:
    """A datetime-local field (YYYY-MM-DDTHH:MM) read as JST."""
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=JST)
    except ValueError:
        raise ValidationError("a time is not in the form YYYY-MM-DDTHH:MM", ja="日時の形式が正しくありません") from None


def _control_state(lifted_at: dt.datetime | None, ends_at: dt.datetime | None, now: dt.datetime) -> str:
    if lifted_at is not None:
        return "lifted"
    return "ended" if ends_at is not None and ends_at <= now else "active"


def build_staff_router() -> APIRouter:
    router = APIRouter(prefix="/staff")

    @router.get("/stats")
    def stats(request: Request, state: State, session: Viewer, day: str | None = None) -> HTMLResponse:
        try:
            chosen = dt.date.fromisoformat(day) if day else state.office.today()
        except ValueError:
            raise ValidationError("a day is YYYY-MM-DD", ja="日付は YYYY-MM-DD の形式です") from None
        figures = day_statistics(chosen, state.office.day_groups(chosen))
        return _page(state, request, "stats.html", session, stats=figures, kinds=dict(_kinds()))

    @router.get("/settlement")
    def settlement(request: Request, state: State, session: Viewer, month: str | None = None) -> HTMLResponse:
        month = month or f"{state.office.today():%Y-%m}"
        if not _MONTH.match(month):
            raise ValidationError("a month is YYYY-MM", ja="対象月は YYYY-MM の形式です")
        rows = state.office.settlement(month)
        totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        for row in rows:
            total = totals[(row.chain_id, row.kind)]
            for i, value in enumerate(
                (row.transactions, row.copies_printed, row.copies_voided, row.failed + row.pending, row.amount_yen)
            ):
                total[i] += value
        grand = [sum(t[i] for t in totals.values()) for i in range(5)]
        by_chain: dict[str, int] = defaultdict(int)
        for (chain, _kind), values in totals.items():
            by_chain[chain] += values[4]
        chain_names = {c.id: c.name for c in state.dep.chains}
        return _page(
            state,
            request,
            "settlement.html",
            session,
            month=month,
            totals=sorted(totals.items()),
            grand=grand,
            by_chain=sorted(by_chain.items()),
            chain_names=chain_names,
        )

    @router.get("/log")
    def log(
        request: Request, state: State, session: Viewer, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0
    ) -> HTMLResponse:
        lines = state.office.log_lines(limit=LOG_PAGE_SIZE, offset=offset)
        return _page(
            state,
            request,
            "log.html",
            session,
            lines=lines,
            offset=offset,
            page_size=LOG_PAGE_SIZE,
            total=state.office.count_log_lines(),
        )

    @router.get("/alerts")
    def alerts(request: Request, state: State, session: Viewer, resumed: bool = False) -> HTMLResponse:
        return _page(state, request, "alerts.html", session, suspension=state.office.suspension(), resumed=resumed)

    @router.post("/alerts/resume")
    def resume(request: Request, state: State, session: Supervisor, csrf: Csrf = "") -> Response:
        check_csrf(session.csrf_token, csrf)
        lifted = state.office.resume()
        _log.warning("city %s: staff %d resumed issuance (lifted=%s)", state.city.code, session.staff.id, lifted)
        return state.pages.redirect(request, "/staff/alerts?resumed=true")

    @router.get("/controls")
    def controls(request: Request, state: State, session: Operator, saved: bool = False) -> HTMLResponse:
        now = state.clock.now()
        rows = [
            (issuer, control, _control_state(control.lifted_at, control.ends_at, now))
            for issuer, control in state.office.controls()
        ]
        return _page(state, request, "controls.html", session, rows=rows, kinds=_kinds(), saved=saved)

    @router.post("/controls/suspend")
    def suspend(
        request: Request,
        state: State,
        session: Operator,
        csrf: Csrf = "",
        kind: Annotated[str, Form(max_length=32)] = "",
        note: Annotated[str, Form(max_length=400)] = "",
    ) -> Response:
        check_csrf(session.csrf_token, csrf)
        state.office.suspend_kind(kind, note=note, by=session.staff.login)
        _log.warning("city %s: staff %d suspended kind %s", state.city.code, session.staff.id, kind)
        return state.pages.redirect(request, "/staff/controls?saved=true")

    @router.post("/controls/window")
    def window(
        request: Request,
        state: State,
        session: Operator,
        csrf: Csrf = "",
        starts: Annotated[str, Form(max_length=32)] = "",
        ends: Annotated[str, Form(max_length=32)] = "",
        note: Annotated[str, Form(max_length=400)] = "",
    ) -> Response:
        check_csrf(session.csrf_token, csrf)
        state.office.add_window(
            starts_at=_parse_local(starts), ends_at=_parse_local(ends), note=note, by=session.staff.login
        )
        _log.warning("city %s: staff %d set a maintenance window", state.city.code, session.staff.id)
        return state.pages.redirect(request, "/staff/controls?saved=true")

    @router.post("/controls/lift")
    def lift(
        request: Request,
        state: State,
        session: Operator,
        csrf: Csrf = "",
        issuer: Annotated[str, Form(max_length=63)] = "",
        control_id: Annotated[int, Form(ge=1)] = 0,
    ) -> Response:
        check_csrf(session.csrf_token, csrf)
        state.office.lift(issuer, control_id, by=session.staff.login)
        _log.warning("city %s: staff %d lifted control %s/%d", state.city.code, session.staff.id, issuer, control_id)
        return state.pages.redirect(request, "/staff/controls?saved=true")

    @router.get("/accounts")
    def accounts(request: Request, state: State, session: Supervisor, saved: bool = False) -> HTMLResponse:
        return _page(state, request, "accounts.html", session, accounts=state.access.list_staff(), saved=saved)

    @router.post("/accounts/{action}")
    def change_account(
        request: Request,
        state: State,
        session: Supervisor,
        action: Literal["disable", "enable"],
        csrf: Csrf = "",
        login: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        check_csrf(session.csrf_token, csrf)
        if login == session.staff.login:  # disabling oneself could shut the city's last supervisor out
            raise ValidationError(
                "you cannot change your own account here", ja="ご自身のアカウントはここでは変更できません"
            )
        change = state.access.disable_staff if action == "disable" else state.access.enable_staff
        staff = change(login)
        _log.warning("city %s: staff %d %sd staff %d", state.city.code, session.staff.id, action, staff.id)
        return state.pages.redirect(request, "/staff/accounts?saved=true")

    @router.get("/audit")
    def audit(
        request: Request,
        state: State,
        session: Viewer,
        log: str | None = None,
        start: Annotated[int | None, Query(ge=0)] = None,
    ) -> HTMLResponse:
        names = city_log_names(state.city)
        name = log or names[0]
        page = read_page(state.dep, state.city, name, start=start)
        return _page(state, request, "audit.html", session, names=names, page=page, check=None, proof=None)

    @router.post("/audit/verify")
    def audit_verify(
        request: Request, state: State, session: Viewer, csrf: Csrf = "", log: Annotated[str, Form(max_length=80)] = ""
    ) -> HTMLResponse:
        check_csrf(session.csrf_token, csrf)
        names = city_log_names(state.city)
        check = verify_whole_log(state.dep, state.city, log)
        page = read_page(state.dep, state.city, log)
        return _page(state, request, "audit.html", session, names=names, page=page, check=check, proof=None)

    @router.get("/audit/prove")
    def audit_prove(
        request: Request, state: State, session: Viewer, log: str, index: Annotated[int, Query(ge=0)]
    ) -> HTMLResponse:
        names = city_log_names(state.city)
        proof = prove_entry(state.dep, state.city, log, index)
        page = read_page(state.dep, state.city, log, start=index)
        return _page(state, request, "audit.html", session, names=names, page=page, check=None, proof=proof)

    @router.get("/encryption")
    async def encryption(request: Request, state: State, session: Viewer) -> HTMLResponse:
        japanese = language(request) == "ja"
        found = await build_encryption_map(state.dep, state.city, certificate=state.certificate, japanese=japanese)
        diagram = "data:image/png;base64," + base64.b64encode(found.diagram_png).decode("ascii")
        return _page(state, request, "encryption.html", session, found=found, diagram=diagram)

    return router
