"""`yakuba console add-staff/staff/disable-staff/enable-staff/set-password`: passwords come from stdin (or a
hidden prompt) and only their hashes are stored; a disabled account or a new password ends the open sessions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yakuba.cli import app
from yakuba.clock import JST, FixedClock
from yakuba.config import write_sample
from yakuba.console.accounts import StaffRole
from yakuba.console.errors import LoginFailedError, SessionRequiredError, StaffNotFoundError
from yakuba.console.service import LOCK_AFTER_FAILURES, ConsoleAccess
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


def test_a_staff_account_is_listed_disabled_enabled_and_given_a_new_password(tmp_path: Path) -> None:
    """The account lifecycle a city's supervisor runs: a leaver disabled (the open session ends at once), an
    account back, a forgotten password replaced (the old one and the lock gone), an unknown login named."""
    dep = write_sample(tmp_path / "d", base_port=31000)
    folder = str(tmp_path / "d")
    city = ["--city", "132292"]
    runner = CliRunner()

    def run(*args: str, stdin: str = "") -> str:
        result = runner.invoke(app, ["console", *args[:1], folder, *city, *args[1:]], input=stdin)
        assert result.exit_code == 0, result.output
        return result.output

    run("add-staff", "--login", "kimura", "--role", "supervisor", stdin=PASSWORD + "\n")
    run("add-staff", "--login", "ito", stdin=PASSWORD + "\n")
    listed = run("staff")
    assert all(word in listed for word in ("kimura", "supervisor", "ito"))
    assert "disabled" not in listed
    assert PASSWORD not in listed
    console = dep.city("132292").console
    assert console is not None
    store = SqlConsoleStore.from_url(dep.database_url(console.database))
    clock = FixedClock(dt.datetime(2026, 11, 27, 9, 0, tzinfo=JST))
    access = ConsoleAccess(store=store, clock=clock)
    try:
        token, _session = access.login(login="ito", password=PASSWORD)
        assert "sessions have ended" in run("disable-staff", "--login", "ito")
        with pytest.raises(SessionRequiredError):  # the leaver's open session ends with the account
            access.session(token)
        with pytest.raises(LoginFailedError):
            access.login(login="ito", password=PASSWORD)
        assert "disabled" in run("staff")
        run("enable-staff", "--login", "ito")
        access.login(login="ito", password=PASSWORD)
        for _ in range(LOCK_AFTER_FAILURES):  # ito forgets the password and locks the account
            with pytest.raises(LoginFailedError):
                access.login(login="ito", password="not the password at all")
        new_password = "another long passphrase"
        run("set-password", "--login", "ito", stdin=new_password + "\n")
        with pytest.raises(LoginFailedError):
            access.login(login="ito", password=PASSWORD)
        _token, session = access.login(login="ito", password=new_password)  # the lock went with the reset
        assert session.staff.login == "ito"
    finally:
        store.dispose()
    unknown = runner.invoke(app, ["console", "disable-staff", folder, *city, "--login", "nobody"])
    assert isinstance(unknown.exception, StaffNotFoundError)  # `yakuba` prints it as one line, exit 2
    assert unknown.exception.text_en == "No staff account has this login name."
    database = Path(dep.database_url(console.database).removeprefix("sqlite:///"))
    assert new_password.encode() not in database.read_bytes()
