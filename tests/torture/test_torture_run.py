"""The short torture run CI does: a deployment with two processes per center and issuer, kiosks and cards at
once, every fault of the light profile (delays, cut and stalled links, double submissions, skewed clocks,
three processes killed and restarted), then every rule checked on every transaction. And proof that the
checks catch what they claim to: the same run's records, doctored, fail them."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
from rich.console import Console

from yakuba.config import load_deployment
from yakuba.torture import (
    DriveResult,
    TortureOptions,
    TortureReport,
    check_run,
    print_verdict,
    profile_named,
    run_torture,
)

REQUESTS = 120
CONCURRENCY = 6

pytestmark = [pytest.mark.torture, pytest.mark.slow]
"""About 2 minutes on an idle 2-core machine (start-up of ~16 processes, driving, re-verifying every copy)."""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> TortureReport:
    folder = tmp_path_factory.mktemp("torture")
    options = TortureOptions(
        folder=folder, profile=profile_named("light"), requests=REQUESTS, concurrency=CONCURRENCY, workers=2
    )
    screen = io.StringIO()
    console = Console(file=screen, width=100)
    result = run_torture(options, console)
    print_verdict(result, console, soak=False)
    (folder / "console.txt").write_text(screen.getvalue(), encoding="utf-8")
    return result


def test_the_short_torture_run_ends_without_a_violation(report: TortureReport) -> None:
    attempts = report.drive.attempts
    assert len(attempts) == REQUESTS
    assert report.checks.violations == [], report.checks.violations[:5]
    printed = [a for a in attempts if a.printed]
    assert len(printed) >= REQUESTS // 4, [a.code for a in attempts if not a.printed]
    assert report.checks.documents_verified == sum(len(a.printed) for a in attempts)
    must_refuse = [a for a in attempts if a.card.refusal_kind is not None]
    assert must_refuse
    assert all(a.outcome != "printed" for a in must_refuse)
    assert len(report.restarts) == 3, report.restarts  # a center and two issuer processes killed mid-run
    assert report.faults["delayed"] > 0
    assert report.faults["duplicate submissions"] > 0
    data = json.loads((report.options.folder / "report.json").read_text())
    assert data["passed"] is True
    assert data["requests"] == REQUESTS


def test_the_checks_catch_a_certificate_handed_to_someone_else(report: TortureReport) -> None:
    """Swap two printed certificates of different residents between their transactions (the Yokohama
    incident), overcharge a third: the same checks must now fail, naming the rules."""
    printed = [a for a in report.drive.attempts if a.printed and a.copies == 1]
    first = printed[0]
    second = next(a for a in printed if a.card.name != first.card.name)
    third = next(a for a in printed if a not in (first, second))
    doctored = [
        dataclasses.replace(first, printed=second.printed, quoted_serial=second.quoted_serial),
        dataclasses.replace(second, printed=first.printed, quoted_serial=first.quoted_serial),
        dataclasses.replace(third, charged_yen=third.charged_yen + 200),
    ]
    dep = load_deployment(report.options.folder / "deployment")
    checks = check_run(dep, DriveResult(attempts=doctored, seconds=0.0), processes=1)
    rules = checks.by_rule()
    assert rules["owner"] >= 2, checks.violations
    assert rules["charged"] >= 1, checks.violations
