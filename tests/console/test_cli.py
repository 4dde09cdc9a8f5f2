"""`yakuba console add-staff`: the password comes from stdin (or a hidden prompt) and only its hash is stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from yakuba.cli import app
from yakuba.clock import JST, FixedClock
from yakuba.config import write_sample
from yakuba.console.accounts import StaffRole
from yakuba.console.service import ConsoleAccess
from yakuba.console.store import SqlConsoleStore

PASSWORD = "a long enough passphrase"


def test_add_staff_stores_an_account_that_can_log_in(tmp_path: Path) -> None:
    dep = write_sample(tmp_path / "d", base_port=31000)
    args = ["console", "add-staff", str(tmp_path / "d"), "--city", "132292", "--login", "yamada", "--role", "operator"]
    added = CliRunner().invoke(app, args, input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "yamada added" in added.output
    again = CliRunner().invoke(app, args, input=PASSWORD + "\n")
    assert again.exit_code != 0  # the login is taken
    bad_role = CliRunner().invoke(app, [*args[:-1], "admin"], input=PASSWORD + "\n")
    assert bad_role.exit_code != 0
    console = dep.city("132292").console
    assert console is not None
    database = Path(dep.database_url(console.database).removeprefix("sqlite:///"))
    assert PASSWORD.encode() not in database.read_bytes()
    store = SqlConsoleStore.from_url(dep.database_url(console.database))
    try:
        access = ConsoleAccess(store=store, clock=FixedClock(dt.datetime(2026, 11, 27, 9, 0, tzinfo=JST)))
        _token, session = access.login(login="yamada", password=PASSWORD)
    finally:
        store.dispose()
    assert session.staff.role is StaffRole.OPERATOR
