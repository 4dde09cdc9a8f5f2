"""The short torture run on PostgreSQL: the center's and the issuers' two worker processes each meet in a server
database, as a real multi-server deployment's do (the 2023-24 incidents happened on such set-ups), instead of
taking turns on one SQLite file. Faults, restarts and every check as in test_torture_run; the run's databases
are created for it and dropped after it."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.engine import make_url

from yakuba.config import load_deployment
from yakuba.database import make_engine
from yakuba.torture import TortureOptions, print_verdict, profile_named, run_torture

REQUESTS = 60
CONCURRENCY = 6

pytestmark = [pytest.mark.torture, pytest.mark.slow]


def test_a_torture_run_on_postgresql_ends_without_a_violation_and_leaves_no_database(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("torture-pg")
    server = postgres_url.rsplit("/", 1)[0]
    options = TortureOptions(
        folder=folder,
        profile=profile_named("light"),
        requests=REQUESTS,
        concurrency=CONCURRENCY,
        workers=2,
        postgres=server,
        revoked=1_000,
    )
    screen = io.StringIO()
    report = run_torture(options, Console(file=screen, width=100))
    print_verdict(report, Console(file=screen, width=100), soak=False)
    assert report.checks.violations == [], report.checks.violations[:5]
    attempts = report.drive.attempts
    assert len(attempts) == REQUESTS
    assert sum(1 for a in attempts if a.printed) >= REQUESTS // 4, [a.code for a in attempts if not a.printed]
    assert report.checks.documents_verified == sum(len(a.printed) for a in attempts)
    assert len(report.restarts) == 3, report.restarts
    assert "on PostgreSQL" in screen.getvalue()
    # The run really was on PostgreSQL: the center and every issuer pointed at a database of the server ...
    dep = load_deployment(folder / "deployment")
    urls = [dep.center.database] + [issuer.database for city in dep.cities for issuer in city.issuers]
    names = {make_url(url).database for url in urls}
    assert all(url.startswith(server) for url in urls), urls
    assert len(names) == len(urls)
    # ... and every one of them is gone after it.
    admin = make_engine(f"{server}/postgres")
    try:
        with admin.connect() as conn:
            left = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname = ANY(:names)"), {"names": list(names)}
            )
            assert left.scalars().all() == []
    finally:
        admin.dispose()
