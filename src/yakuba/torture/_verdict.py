"""The one-screen verdict of a torture run: the rules with their violations, the counts, the faults, the memory."""

from __future__ import annotations

import json
import os
import platform
from collections import Counter
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from yakuba.machine import cpu_model
from yakuba.torture._chart import write_soak_chart
from yakuba.torture._checks import RULES
from yakuba.torture._run import TortureReport

__all__ = ["CHART_NAME", "print_verdict", "report_json"]

CHART_NAME = "memory.png"
"""The soak's chart of memory and descriptors per process over time, in the run's folder."""


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _machine() -> str:
    model = cpu_model()
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{os.cpu_count()} CPU {model or platform.machine()}; load average {load}"


def report_json(report: TortureReport) -> dict[str, Any]:
    attempts = report.drive.attempts
    codes = Counter(a.code for a in attempts if a.code)
    return {
        "profile": report.options.profile.name,
        "requests": len(attempts),
        "concurrency": report.options.concurrency,
        "workers": report.options.workers,
        "database": "PostgreSQL" if report.options.postgres else "SQLite",
        "outcomes": Counter(a.outcome for a in attempts),
        "codes": codes,
        "copies_printed": sum(len(a.printed) for a in attempts),
        "yen_charged": sum(a.charged_yen for a in attempts),
        "drive_s": round(report.drive.seconds, 1),
        "setup_s": round(report.setup_s, 1),
        "check_s": round(report.check_s, 1),
        "latency_s": {
            "p50": round(_quantile([a.seconds for a in attempts], 0.5), 3),
            "p95": round(_quantile([a.seconds for a in attempts], 0.95), 3),
            "p99": round(_quantile([a.seconds for a in attempts], 0.99), 3),
        },
        "faults": report.faults,
        "restarts": report.restarts,
        "violations": report.checks.by_rule(),
        "documents_verified": report.checks.documents_verified,
        "audit_entries": report.checks.audit_entries,
        "settlement_lines": report.checks.settlement_lines,
        "unreported_completions": report.checks.unreported,
        "completion_delivery": {"wait_s": round(report.report_wait_s, 1), "left": report.reports_left},
        "clock": report.clock_reads,
        "machine": _machine(),
        "processes": [
            {
                "name": s.name,
                "pid": s.pid,
                "samples": len(s.samples),
                "rss_mb_first_last": [round(v, 1) for v in s.rss_first_last] if s.samples else None,
                "fds_first_last": list(s.fds_first_last) if s.samples else None,
                "peak_rss_mb": round(s.peak_rss, 1) if s.samples else None,
                "growing": s.growing,
            }
            for s in report.series
        ],
        "passed": report.passed,
    }


def print_verdict(report: TortureReport, console: Console, *, soak: bool) -> None:
    data = report_json(report)
    (report.options.folder / "report.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")
    outcomes: Counter[str] = data["outcomes"]
    run = Table.grid(padding=(0, 2))
    run.add_column(style="bold")
    run.add_column()
    attempts = data["requests"]
    rate = attempts / report.drive.seconds if report.drive.seconds else 0.0
    run.add_row(
        "transactions",
        f"{attempts} from {data['concurrency']} kiosks at once, {data['workers']} processes per role, "
        f"center and issuers on {data['database']}",
    )
    run.add_row("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    run.add_row(
        "copies printed",
        f"{data['copies_printed']} ({data['documents_verified']} verified again), {data['yen_charged']} yen",
    )
    run.add_row(
        "refusal codes",
        ", ".join(f"{k} {v}" for k, v in data["codes"].most_common(6)) or "-",
    )
    lat = data["latency_s"]
    run.add_row(
        "time",
        f"{report.drive.seconds:.0f} s driving ({rate:.1f}/s), p50 {lat['p50']:.2f} s, p95 {lat['p95']:.2f} s, "
        f"p99 {lat['p99']:.2f} s; set-up {report.setup_s:.0f} s, checks {report.check_s:.0f} s",
    )
    faults = report.faults
    run.add_row(
        f"faults ({data['profile']})",
        f"{faults.get('delayed', 0)} delayed, {faults.get('dropped', 0)} cut, {faults.get('stalled', 0)} stalled "
        f"chunks; {faults.get('duplicate submissions', 0)} double submissions; "
        f"{len(report.restarts)} processes killed and restarted",
    )
    run.add_row(
        "records",
        f"{data['audit_entries']} audit entries, {data['settlement_lines']} settlement lines, "
        f"{data['unreported_completions']} completions the kiosk could not hand to its HQ (marked to resend)",
    )
    run.add_row(
        "completions",
        f"the store HQs' outboxes delivered every closed completion to the center {report.report_wait_s:.1f} s "
        "after driving (faults off)"
        if report.reports_left == 0
        else f"[red]{report.reports_left} closed completions still queued at the HQs after "
        f"{report.report_wait_s:.0f} s (faults off)[/red]",
    )
    run.add_row("clock", f"the processes' clocks read {report.clock_reads} at the start (moved into service hours)")
    run.add_row("machine", data["machine"])
    rules = Table(title="rules", expand=True)
    rules.add_column("rule")
    rules.add_column("what is checked on every transaction")
    rules.add_column("violations", justify="right")
    counts = report.checks.by_rule()
    for rule, text in RULES.items():
        n = counts.get(rule, 0)
        rules.add_row(rule, text, f"[red]{n}[/red]" if n else "[green]0[/green]")
    parts: list[Any] = [run, rules]
    if report.checks.violations:
        sample = Table(title="first violations (request number, reason)")
        sample.add_column("rule")
        sample.add_column("request", justify="right")
        sample.add_column("reason")
        for v in report.checks.violations[:8]:
            sample.add_row(v.rule, str(v.request), v.detail)
        parts.append(sample)
    if soak:
        chart = report.options.folder / CHART_NAME
        write_soak_chart(
            chart,
            report.series,
            title=f"yakuba torture soak: {attempts} transactions in {report.drive.seconds:.0f} s, "
            f"{data['concurrency']} kiosks, faults {data['profile']}",
        )
        memory = Table(
            title="memory and descriptors per process (after warm-up: first quarter -> last quarter)",
            caption=f"over time: {chart}",
        )
        for column in ("process", "RSS MB", "peak MB", "fds", "grows?"):
            memory.add_column(column)
        for s in report.series:
            if len(s.samples) < 2:
                continue
            a, b = s.rss_first_last
            fa, fb = s.fds_first_last
            memory.add_row(
                s.name,
                f"{a:.0f} -> {b:.0f}",
                f"{s.peak_rss:.0f}",
                f"{fa} -> {fb}",
                "[red]yes[/red]" if s.growing else "no",
            )
        parts.append(memory)
    verdict = (
        "[bold green]PASS[/bold green]: no violation"
        if report.passed
        else f"[bold red]FAIL[/bold red]: {len(report.checks.violations)} violations"
    )
    console.print(Panel(Group(*parts), title=f"yakuba torture: {verdict}", subtitle=str(report.options.folder)))
