"""Run every check of the council record against a live deployment and its recorder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from yakuba.config import Deployment
from yakuba.council.checks._network import HopProbe, check_mutual_tls, check_sealed_end_to_end, probe_network
from yakuba.council.checks._recorder import (
    ERASE_GRACE,
    check_media_ledger,
    check_provisions,
    check_retention_window,
    check_views_have_purpose,
    provision_register,
)
from yakuba.council.checks._relays import check_relays_hold_nothing_personal, load_relay_scan, relay_files
from yakuba.council.checks._verdict import CheckResult, Evidence, cannot_tell, judge
from yakuba.council.record import CouncilRecord
from yakuba.council.store import count_overdue_segments, fetch_entries_of_type
from yakuba.recorder import Recorder
from yakuba.wire.messages import HistoryAnswer, IssuanceAnswer

__all__ = ["CHECK_IDS", "LiveFindings", "run_checks"]

CHECK_IDS = (
    "network.mutual_tls",
    "network.sealed_end_to_end",
    "relays.no_personal_data",
    "recorder.provisions_on_record",
    "recorder.media_ledger",
    "recorder.retention_window",
    "recorder.views_have_purpose",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveFindings:
    """The verdict of every check, and the hop probes the encryption map is drawn from."""

    results: dict[str, CheckResult]
    probes: tuple[HopProbe, ...]


def _answer_fields() -> dict[str, tuple[str, ...]]:
    return {m.__name__: tuple(m.model_fields) for m in (IssuanceAnswer, HistoryAnswer)}


async def run_checks(
    dep: Deployment,
    *,
    record: CouncilRecord,
    recorder: Recorder | None,
    since: dt.datetime,
    until: dt.datetime,
) -> LiveFindings:
    """Probe the network, scan the relays, read the recorder, and judge each check the RECORD's conditions name."""
    probes = await probe_network(dep)

    def relays() -> Evidence:
        files, values = load_relay_scan(dep)
        return check_relays_hold_nothing_personal(files=files, values=values)

    def need_recorder(work: Callable[[Recorder], Evidence]) -> Callable[[], Evidence]:
        def run() -> Evidence:
            if recorder is None:
                raise cannot_tell(["the deployment has no recorder database"])
            return work(recorder)

        return run

    def retention(rec: Recorder) -> Evidence:
        overdue, held = count_overdue_segments(rec.engine, now=rec.clock.now(), grace=ERASE_GRACE)
        erased = fetch_entries_of_type(rec.engine, "footage.erased")
        return check_retention_window(erased=erased, overdue=overdue, kept_by_hold=held)

    checks: dict[str, Callable[[], Evidence]] = {
        "network.mutual_tls": lambda: check_mutual_tls(probes),
        "network.sealed_end_to_end": lambda: check_sealed_end_to_end(
            relay_files=relay_files(dep), answer_fields=_answer_fields()
        ),
        "relays.no_personal_data": relays,
        "recorder.provisions_on_record": need_recorder(
            lambda rec: check_provisions(provision_register(rec, since=since, until=until))
        ),
        "recorder.media_ledger": need_recorder(
            lambda rec: check_media_ledger(cards=rec.cards(), alerts=rec.card_alerts())
        ),
        "recorder.retention_window": need_recorder(retention),
        "recorder.views_have_purpose": need_recorder(
            lambda rec: check_views_have_purpose(fetch_entries_of_type(rec.engine, "footage.viewed"))
        ),
    }
    wanted = {check_id for _, cond in record.conditions() for check_id in cond.checks}
    results: dict[str, CheckResult] = {}
    for check_id in CHECK_IDS:
        if check_id in wanted:
            results[check_id] = judge(check_id, checks[check_id])
    for check_id in sorted(wanted - set(CHECK_IDS)):
        results[check_id] = judge(check_id, lambda cid=check_id: _unknown(cid))  # type: ignore[misc]
    return LiveFindings(results=results, probes=tuple(probes))


def _unknown(check_id: str) -> Evidence:
    raise cannot_tell([f"no check named {check_id!r} is built in"])
