"""`yakuba audit ...`: verify a log end to end, show its entries and checkpoint, prove an entry."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from yakuba.audit import (
    AuditLog,
    LogIntegrityError,
    NoteVerifier,
    open_deployment_log,
    parse_verifier_key,
    verify_entry_inclusion,
    verify_log,
)
from yakuba.config import load_deployment
from yakuba.database import make_engine
from yakuba.errors import ConfigError

__all__ = ["app"]

app = typer.Typer(
    name="audit",
    help="The tamper-evident audit logs: verify, show, prove.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DeploymentOpt = Annotated[
    Path | None, typer.Option("--deployment", "-d", help="Deployment folder (or its yakuba.toml).")
]
LogOpt = Annotated[
    str | None, typer.Option("--log", "-l", help="Log name: a role instance id, or registry-<city code>.")
]
DatabaseOpt = Annotated[str | None, typer.Option("--database", help="The log's database URL, instead of -d/-l.")]
KeyOpt = Annotated[Path | None, typer.Option("--key", help="The log's verifier key file (vkey), with --database.")]


@dataclass(frozen=True, slots=True)
class _Target:
    log: AuditLog
    verifier: NoteVerifier | None


def _target(deployment: Path | None, log_name: str | None, database: str | None, key: Path | None) -> _Target:
    verifier: NoteVerifier | None = None
    if key is not None:
        parsed = parse_verifier_key(key.read_text(encoding="ascii"))
        if not isinstance(parsed, NoteVerifier):
            raise ConfigError("--key must be a log's verifier key (type 0x01)")
        verifier = parsed
    if database is not None:
        return _Target(log=AuditLog.attach(engine=make_engine(database)), verifier=verifier)
    if deployment is None or log_name is None:
        raise ConfigError("name the log with --deployment and --log, or give --database")
    opened = open_deployment_log(load_deployment(deployment), log_name)
    return _Target(log=opened.log, verifier=verifier or opened.verifier)


@app.command()
def init(
    deployment: Annotated[Path, typer.Option("--deployment", "-d", help="Deployment folder.")],
    log_name: Annotated[str, typer.Option("--log", "-l", help="Log name.")],
) -> None:
    """Create a log's tables and keys (checkpoint key, subject secret) if they do not exist yet."""
    opened = open_deployment_log(load_deployment(deployment), log_name, create=True)
    Console().print(f"audit log [bold]{opened.log.origin}[/bold] ready; key {opened.verifier.vkey()}")


@app.command()
def integrate(
    deployment: Annotated[Path, typer.Option("--deployment", "-d", help="Deployment folder.")],
    log_name: Annotated[str, typer.Option("--log", "-l", help="Log name.")],
) -> None:
    """Sequence pending entries into the tree and sign a checkpoint now (the services do this every second)."""
    opened = open_deployment_log(load_deployment(deployment), log_name, with_signer=True)
    checkpoint = opened.integrator().integrate_pending()
    if checkpoint is None:
        Console().print("nothing pending")
    else:
        Console().print(f"checkpoint published: size {checkpoint.size}")


@app.command()
def verify(
    deployment: DeploymentOpt = None,
    log_name: LogOpt = None,
    database: DatabaseOpt = None,
    key: KeyOpt = None,
) -> None:
    """Recompute the whole tree, check every entry, tile and checkpoint; report the first inconsistency."""
    target = _target(deployment, log_name, database, key)
    if target.verifier is None:
        raise ConfigError("verify needs the log's public key: --key, or --deployment and --log")
    console = Console(highlight=False)
    try:
        report = verify_log(target.log.engine, log_key=target.verifier)
    except LogIntegrityError as exc:
        where = f"entry {exc.index}" if exc.index is not None else "the tree"
        console.print(f"[red]FAILED[/red] at {where}: {exc.text_en}")
        raise typer.Exit(1) from exc
    console.print(
        f"[green]OK[/green] {report.origin}: {report.entries} entries, tree size {report.tree_size}, "
        f"{report.checkpoints} checkpoints, {report.tiles} tiles verified; {report.pending} pending; "
        f"root {base64.b64encode(report.root_hash).decode()}"
    )


@app.command()
def show(
    deployment: DeploymentOpt = None,
    log_name: LogOpt = None,
    database: DatabaseOpt = None,
    start: Annotated[int, typer.Option("--from", help="First leaf index to list.")] = 0,
    limit: Annotated[int, typer.Option("--limit", help="How many entries to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the latest signed checkpoint and entries from --from (entries hold no personal data)."""
    target = _target(deployment, log_name, database, None)
    state = target.log.tree_state()
    note = target.log.checkpoint()
    stored = target.log.entries(start=start, limit=limit)
    if as_json:
        out = {
            "origin": state.origin,
            "tree_size": state.size,
            "pending": target.log.pending_count(),
            "checkpoint": note,
            "entries": [{"leaf_index": e.leaf_index, **e.entry.to_json_object()} for e in stored],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    console = Console(highlight=False)
    console.print(f"[bold]{state.origin}[/bold]: tree size {state.size}, {target.log.pending_count()} pending")
    if note:
        console.print(note.rstrip("\n"), markup=False)
    table = Table()
    for column in ("index", "time (UTC)", "event", "actor", "subject", "fields"):
        table.add_column(column, overflow="fold")  # never truncate what an auditor reads
    for e in stored:
        actor = f"{e.entry.actor.role}/{e.entry.actor.instance}"
        if e.entry.actor.staff_id:
            actor += f" ({e.entry.actor.staff_id})"
        fields = ", ".join(f"{k}={v}" for k, v in e.entry.fields.items())
        subject = (e.entry.subject or "-")[:12]
        table.add_row(str(e.leaf_index), e.entry.time_text, e.entry.event_type, actor, subject, fields)
    console.print(table)


@app.command()
def prove(
    entry: Annotated[int, typer.Argument(help="Leaf index of the entry.")],
    deployment: DeploymentOpt = None,
    log_name: LogOpt = None,
    database: DatabaseOpt = None,
    key: KeyOpt = None,
    size: Annotated[int | None, typer.Option("--size", help="Tree size to prove against (a checkpoint).")] = None,
) -> None:
    """Print an inclusion proof for ENTRY with its signed checkpoint, as JSON (checked before printing)."""
    target = _target(deployment, log_name, database, key)
    proof = target.log.inclusion_proof(entry, tree_size=size)
    if target.verifier is not None:
        verify_entry_inclusion(
            note=proof.checkpoint,
            log_key=target.verifier,
            leaf_hash=proof.leaf_hash,
            index=proof.leaf_index,
            proof=proof.hashes,
        )
    out = {
        "origin": target.log.origin,
        "leaf_index": proof.leaf_index,
        "tree_size": proof.tree_size,
        "leaf_hash": base64.b64encode(proof.leaf_hash).decode(),
        "inclusion_proof": [base64.b64encode(h).decode() for h in proof.hashes],
        "checkpoint": proof.checkpoint,
        "entry": target.log.entry(entry).entry.to_json_object(),
    }
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
