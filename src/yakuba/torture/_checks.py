"""The run's verdict: every rule the real incidents broke, checked on every transaction after the run.

Each check reads what the roles themselves recorded (the issuers' logs and audit logs, the center's
settlement lines, the HQs' billing lines) and what the kiosks printed, and compares them with what each card
asked for. A violation names the rule, the run's request number and a short reason: never a name or content.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yakuba.config import Deployment
from yakuba.torture._driver import Attempt, DriveResult

__all__ = ["RULES", "CheckReport", "Violation", "check_run"]

RULES = {
    "owner": "every printed certificate is about the card holder who asked, for the city and kind asked",
    "pages": "every page of a certificate is of the same document and person (verified independently)",
    "charged": "nothing charged without a verified print; charges equal fee x copies printed everywhere",
    "twice": "no transaction issued twice; no serial printed for two transactions",
    "audit": "every issuance has its audit entry, about the same person, and every audit log verifies",
    "settlement": "every issuance has its settlement line at the center and its billing line at the HQ",
    "refusal": "a resident every kiosk must refuse never gets a certificate",
}
"""The rules the verdict counts, as the issue states them."""

FAMILY_KINDS = frozenset({"koseki-zenbu", "koseki-kojin", "fuhyo"})


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    request: int
    detail: str


@dataclass(slots=True, kw_only=True)
class CheckReport:
    violations: list[Violation] = field(default_factory=list)
    documents_verified: int = 0
    audit_entries: int = 0
    settlement_lines: int = 0
    unreported: int = 0
    """Printed and paid, but the kiosk could not report the outcome to its HQ (the kiosk marks it to resend)."""

    def add(self, rule: str, attempt: Attempt | None, detail: str) -> None:
        self.violations.append(Violation(rule=rule, request=-1 if attempt is None else attempt.index, detail=detail))

    def by_rule(self) -> Counter[str]:
        return Counter(v.rule for v in self.violations)


_TRUST: Any = None


def _verify_pdf(args: tuple[str, str]) -> dict[str, Any]:
    """In a worker process: verify one printed PDF end to end (signature, chain, QR on every page, content
    digest, required elements on every page) and return what it certifies."""
    global _TRUST
    from yakuba.documents import DocumentTrust, verify_document
    from yakuba.errors import YakubaError

    path, key_dir = args
    if _TRUST is None:
        _TRUST = DocumentTrust.from_key_dir(Path(key_dir))
    try:
        verified = verify_document(Path(path).read_bytes(), trust=_TRUST)
    except YakubaError as exc:
        return {"error": exc.code}
    certified = verified.certified
    return {
        "serial": verified.summary.serial,
        "kind": verified.summary.kind.value,
        "city": verified.summary.city_code,
        "person": "".join(str(certified.get("person", "")).split()),
        "pages": verified.pages,
    }


def check_run(
    dep: Deployment,
    drive: DriveResult,
    *,
    processes: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> CheckReport:
    """Every rule over every attempt of the run (the deployment's processes must be stopped)."""
    report = CheckReport()
    attempts = drive.attempts
    for tx in drive.duplicate_answers_differ:
        report.add("twice", None, f"two answers with different envelopes for one transaction ({tx[:11]}…)")
    _check_documents(dep, attempts, report, processes=processes, on_progress=on_progress)
    entries = _issuer_entries(dep, attempts)
    _check_issuer_logs(dep, attempts, entries, report)
    _check_settlement(dep, attempts, entries, report)
    return report


def _check_documents(
    dep: Deployment,
    attempts: list[Attempt],
    report: CheckReport,
    *,
    processes: int,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    jobs = [(a, p) for a in attempts for p in a.printed]
    serial_owner: dict[str, int] = {}
    done = 0
    with ProcessPoolExecutor(max_workers=max(1, processes)) as pool:
        results = pool.map(_verify_pdf, [(str(p), str(dep.key_dir)) for _, p in jobs], chunksize=4)
        for (attempt, _path), found in zip(jobs, results, strict=True):
            done += 1
            if on_progress is not None:
                on_progress(done, len(jobs))
            if "error" in found:
                report.add("pages", attempt, f"printed copy fails verification [{found['error']}]")
                continue
            report.documents_verified += 1
            if found["person"] and "".join(attempt.card.name.split()) not in found["person"]:
                report.add("owner", attempt, "the certificate names another person than the card holder")
            if found["city"] != attempt.card.city_code or found["kind"] != attempt.kind:
                report.add("owner", attempt, "the certificate is of another city or kind than asked")
            if found["serial"] != attempt.quoted_serial:
                report.add("owner", attempt, "the printed serial is not the one the kiosk verified and quoted")
            owner = serial_owner.setdefault(found["serial"], attempt.index)
            if owner != attempt.index:
                report.add("twice", attempt, f"serial also printed for request {owner}")
    for attempt in attempts:
        if attempt.card.refusal_kind is not None and attempt.printed:
            report.add("refusal", attempt, "a resident who must be refused got a certificate")
        if attempt.outcome == "printed" and len(attempt.printed) != attempt.copies:
            report.add("twice", attempt, f"{len(attempt.printed)} copies printed for {attempt.copies} asked")
        if attempt.charged_yen and not attempt.printed:
            report.add("charged", attempt, "charged without a printed certificate")
        if attempt.printed and attempt.charged_yen != attempt.quoted_total_yen:
            report.add("charged", attempt, "charged another amount than the verified quote")


def _issuer_of(dep: Deployment, attempt: Attempt) -> str:
    city = next(c for c in dep.cities if c.code == attempt.card.city_code)
    return city.issuer_for("koseki" if attempt.kind in FAMILY_KINDS else "juki").instance


def _issuer_entries(dep: Deployment, attempts: Iterable[Attempt]) -> dict[int, Any]:
    """Each attempt's issuance-log entry at its issuer (absent when the request never got that far)."""
    from yakuba.database import make_engine
    from yakuba.issuer.store import IssuanceLogStore

    stores: dict[str, IssuanceLogStore] = {}
    found: dict[int, Any] = {}
    try:
        for attempt in attempts:
            if attempt.transaction_id is None:
                continue
            instance = _issuer_of(dep, attempt)
            if instance not in stores:
                issuer = next(i for c in dep.cities for i in c.issuers if i.instance == instance)
                stores[instance] = IssuanceLogStore(engine=make_engine(dep.database_url(issuer.database)))
            store = stores[instance]
            if store.count_entries(transaction_id=attempt.transaction_id) > 1:
                found[attempt.index] = "twice"
                continue
            entry = store.fetch_entry(attempt.transaction_id)
            if entry is not None:
                found[attempt.index] = entry
    finally:
        for store in stores.values():
            store.dispose()
    return found


def _check_issuer_logs(dep: Deployment, attempts: list[Attempt], entries: dict[int, Any], report: CheckReport) -> None:
    from yakuba.audit import load_subject_secret, open_deployment_log, subject_key, verify_log

    issued_events: dict[str, list[tuple[str, str | None]]] = {}
    for city in dep.cities:
        for issuer in city.issuers:
            opened = open_deployment_log(dep, issuer.instance, with_signer=True)
            try:
                opened.integrator().integrate_pending()  # what a killed worker left pending
                verify_log(opened.log.engine, log_key=opened.verifier)
            except Exception as exc:  # any failure of a log's integrity is a violation, named by its code
                report.add("audit", None, f"audit log of {issuer.instance} does not verify ({type(exc).__name__})")
            start = 0
            while batch := opened.log.entries(start=start, limit=1000):
                for stored in batch:
                    entry = stored.entry
                    report.audit_entries += 1
                    tx = entry.fields.get("transaction_id")
                    if isinstance(tx, str):
                        issued_events.setdefault(tx, []).append((entry.event_type, entry.subject))
                start = batch[-1].leaf_index + 1 if batch[-1].leaf_index is not None else start + len(batch)
            opened.log.engine.dispose()
    secrets = {
        i.instance: load_subject_secret(key_dir=dep.key_dir, log_name=i.instance) for c in dep.cities for i in c.issuers
    }
    for attempt in attempts:
        logged = entries.get(attempt.index)
        if logged == "twice":
            report.add("twice", attempt, "the issuer logged the transaction more than once")
            continue
        if not attempt.printed:
            continue
        if logged is None:
            report.add("audit", attempt, "printed, but the issuer has no log entry for the transaction")
            continue
        if logged.serial != attempt.quoted_serial:
            report.add("owner", attempt, "the issuer logged another serial for this transaction")
        expected = subject_key(secrets[_issuer_of(dep, attempt)], "resident", str(attempt.card.person_id))
        if logged.subject_hash is not None and logged.subject_hash != expected:
            report.add("owner", attempt, "the issuer logged the issuance about another person")
        events = issued_events.get(attempt.transaction_id or "", [])
        issued = [subject for event, subject in events if event == "issuance.issued"]
        if len(issued) != 1:
            report.add("audit", attempt, f"{len(issued)} issued entries in the audit log (one expected)")
        elif issued[0] != expected:
            report.add("audit", attempt, "the audit entry is about another person")


def _check_settlement(dep: Deployment, attempts: list[Attempt], entries: dict[int, Any], report: CheckReport) -> None:
    from yakuba.center.store import SqlSettlementStore
    from yakuba.database import make_engine
    from yakuba.storehq.store import BillingStore

    center_engine = make_engine(dep.database_url(dep.center.database))
    center = SqlSettlementStore(engine=center_engine)
    hq_engines = {c.id: make_engine(dep.database_url(c.hq.database)) for c in dep.chains}
    chain_of = {k.instance: c.id for c, k in dep.kiosks()}
    try:
        for attempt in attempts:
            if attempt.transaction_id is None:
                continue
            line = center.find_line(attempt.transaction_id)
            billing = BillingStore(engine=hq_engines[chain_of[attempt.kiosk]]).fetch_line(attempt.transaction_id)
            if line is not None:
                report.settlement_lines += 1
            if not attempt.printed:
                if line is not None and line.amount_yen:
                    report.add("charged", attempt, "the center settles yen for a transaction that printed nothing")
                if billing is not None and billing.amount_yen:
                    report.add("charged", attempt, "the HQ bills yen for a transaction that printed nothing")
                if billing is not None and _still_queued(billing):
                    report.add("settlement", attempt, "closed at the HQ, never reported to the center (faults off)")
                continue
            if line is None or billing is None:
                report.add("settlement", attempt, "printed, but the center or the HQ has no line for it")
                continue
            if billing.status.value == "pending":
                report.unreported += 1  # the kiosk could not reach its HQ with the outcome: it marks it to resend
                continue
            if line.status.value == "pending":
                # The HQ closed its line and answered the kiosk; its outbox owed the center this fact.
                if billing.report_error is not None:
                    report.add(
                        "settlement", attempt, f"the center refused the HQ's completion [{billing.report_error}]"
                    )
                else:
                    report.add("settlement", attempt, "closed at the HQ, not at the center after the wait (faults off)")
                continue
            if line.amount_yen != attempt.charged_yen or billing.amount_yen != attempt.charged_yen:
                report.add("charged", attempt, "the center or the HQ settles another amount than the kiosk took")
            if line.copies_printed != len(attempt.printed):
                report.add("settlement", attempt, "the settlement line counts other copies than were printed")
    finally:
        center_engine.dispose()
        for engine in hq_engines.values():
            engine.dispose()


def _still_queued(billing: Any) -> bool:
    """A closed HQ line its outbox has not delivered (the run waited for the outboxes, faults off)."""
    return billing.status.value != "pending" and billing.reported_at is None


def violations_json(report: CheckReport) -> str:
    """The violations as JSON lines (rule, request number, reason): for the run's folder."""
    return "\n".join(json.dumps({"rule": v.rule, "request": v.request, "detail": v.detail}) for v in report.violations)
