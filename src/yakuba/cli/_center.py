"""`yakuba center ...`: the issuance center's operations: monthly settlement, resuming a suspended city."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from yakuba.config import load_deployment

__all__ = ["app"]

app = typer.Typer(
    name="center",
    help="The issuance center's operations: settlement per month, city suspensions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DeploymentOpt = Annotated[Path, typer.Option("--deployment", "-d", help="Deployment folder (holding yakuba.toml).")]


@app.command()
def settlement(
    month: Annotated[str, typer.Argument(help="The month to settle, YYYY-MM (JST days).")],
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Counts and fees per city, store chain and kind for MONTH: what the city and each chain reconcile."""
    from yakuba.center import settlement_report

    rows = settlement_report(load_deployment(deployment), month)
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in rows:
        total = totals[(row.city, row.chain_id, row.kind)]
        for i, value in enumerate(
            (row.transactions, row.copies_printed, row.copies_voided, row.failed + row.pending, row.amount_yen)
        ):
            total[i] += value
    table = Table(title=f"settlement {month} (精算)")
    for column in ("city", "chain", "kind", "transactions", "copies printed", "voided", "not closed", "yen"):
        table.add_column(column, justify="right" if column not in ("city", "chain", "kind") else "left")
    for (city, chain, kind), (txs, printed, voided, open_, yen) in sorted(totals.items()):
        table.add_row(city, chain, kind, str(txs), str(printed), str(voided), str(open_), f"{yen:,}")
    table.add_row(
        "",
        "",
        "total",
        *(str(sum(t[i] for t in totals.values())) for i in range(4)),
        f"{sum(t[4] for t in totals.values()):,}",
    )
    Console(soft_wrap=True).print(table)


@app.command()
def resume(
    city: Annotated[str, typer.Option("--city", help="The city code whose issuance was suspended.")],
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Lift a city's suspension after an integrity error was investigated (the center stopped it)."""
    from yakuba.center import find_suspension, resume_city

    dep = load_deployment(deployment)
    suspension = find_suspension(dep, city)
    if suspension is None or not resume_city(dep, city):
        Console().print(f"city {city} is not suspended; nothing changed")
        return
    Console().print(f"city {city}: issuance resumed (suspended at {suspension.suspended_at:%Y-%m-%d %H:%M} UTC)")
