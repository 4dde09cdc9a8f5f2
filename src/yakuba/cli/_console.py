"""`yakuba console ...`: serve a city's operations console, manage its staff accounts."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from yakuba.console.server import ConsoleServer
    from yakuba.console.service import ConsoleAccess

__all__ = ["app"]

app = typer.Typer(
    name="console",
    help="The city operations console: staff pages and the certificate verification page, over HTTPS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DeploymentDir = Annotated[Path, typer.Argument(help="Deployment folder (holding yakuba.toml) or the TOML file.")]
CityOpt = Annotated[str, typer.Option("--city", help="The city code whose console this is.")]


@app.command()
def serve(directory: DeploymentDir, city: CityOpt) -> None:
    """Serve the console of CITY on its configured address until Ctrl-C (HTTPS with a certificate from the
    city's backbone CA, made on first start)."""
    import logging

    from yakuba.config import load_deployment
    from yakuba.console.server import ConsoleServer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server = ConsoleServer(load_deployment(directory), city_code=city)
    Console().print(f"console of city {city}: starting (Ctrl-C stops it)")
    asyncio.run(_serve_until_signalled(server))
    Console().print("console stopped")


async def _serve_until_signalled(server: ConsoleServer) -> None:
    """Serve until SIGINT or SIGTERM, then let running requests finish and close the databases."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop()


def _read_password() -> str:
    if sys.stdin.isatty():
        first = str(typer.prompt("password (12+ characters)", hide_input=True))
        if first != str(typer.prompt("again", hide_input=True)):
            raise typer.BadParameter("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


LoginOpt = Annotated[str, typer.Option("--login", help="Login name: 2-40 of a-z, 0-9, '.', '_', '-'.")]


@contextlib.contextmanager
def _access(directory: Path, city: str) -> Iterator[ConsoleAccess]:
    """CITY's console accounts, on its configured database (migrated to the newest schema)."""
    from yakuba.clock import SystemClock
    from yakuba.config import load_deployment
    from yakuba.console.app import find_city
    from yakuba.console.service import ConsoleAccess
    from yakuba.console.store import SqlConsoleStore

    dep = load_deployment(directory)
    config = find_city(dep, city).console
    assert config is not None
    store = SqlConsoleStore.from_url(dep.database_url(config.database))
    try:
        yield ConsoleAccess(store=store, clock=SystemClock())
    finally:
        store.dispose()


@app.command(name="add-staff")
def add_staff(
    directory: DeploymentDir,
    city: CityOpt,
    login: LoginOpt,
    role: Annotated[str, typer.Option("--role", help="viewer, operator or supervisor.")] = "viewer",
) -> None:
    """Add a staff account to CITY's console; the password is read from a hidden prompt (or stdin's first line)
    and stored only as an Argon2id hash."""
    from yakuba.console.accounts import StaffRole
    from yakuba.errors import ValidationError

    try:
        staff_role = StaffRole(role)
    except ValueError:
        raise ValidationError(f"unknown role {role!r}: viewer, operator or supervisor") from None
    with _access(directory, city) as access:
        staff = access.add_staff(login=login, role=staff_role, password=_read_password())
    Console().print(f"staff {staff.login} added to the console of {city} as {staff.role.value}")


@app.command(name="staff")
def list_staff(directory: DeploymentDir, city: CityOpt) -> None:
    """List CITY's console accounts: login, role, when added, whether disabled (no password, no session)."""
    from rich.table import Table

    from yakuba.clock import JST

    with _access(directory, city) as access:
        accounts = access.list_staff()
    table = Table(title=f"console staff of {city}")
    for column in ("login", "role", "added (JST)", "state"):
        table.add_column(column)
    for staff in accounts:
        added = f"{staff.created_at.astimezone(JST):%Y-%m-%d %H:%M}"
        table.add_row(staff.login, staff.role.value, added, "disabled" if staff.disabled else "active")
    Console().print(table)


@app.command(name="disable-staff")
def disable_staff(directory: DeploymentDir, city: CityOpt, login: LoginOpt) -> None:
    """Disable a staff account (a leaver, a lost password): no login from now on, its open sessions end at once.
    The account stays, so the audit trail's staff ids keep their meaning."""
    with _access(directory, city) as access:
        staff = access.disable_staff(login)
    Console().print(f"staff {staff.login} disabled on the console of {city}; its sessions have ended")


@app.command(name="enable-staff")
def enable_staff(directory: DeploymentDir, city: CityOpt, login: LoginOpt) -> None:
    """Enable a disabled staff account again (its password unchanged, its lock cleared)."""
    with _access(directory, city) as access:
        staff = access.enable_staff(login)
    Console().print(f"staff {staff.login} enabled on the console of {city}")


@app.command(name="set-password")
def set_password(directory: DeploymentDir, city: CityOpt, login: LoginOpt) -> None:
    """Give a staff account a new password (hidden prompt, or stdin's first line): its lock is cleared and its
    open sessions end."""
    with _access(directory, city) as access:
        staff = access.reset_password(login, _read_password())
    Console().print(f"staff {staff.login} has a new password on the console of {city}; its sessions have ended")
