"""`yakuba bench audit`: append rate with live checkpoints, proof times on a large log, verification time."""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import platform
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Engine, select

from yakuba.audit import (
    Actor,
    AuditEntry,
    AuditLog,
    Checkpoint,
    Integrator,
    NoteSigner,
    verify_entry_inclusion,
    verify_inclusion,
    verify_log,
)
from yakuba.audit._merkle import consistency_proof, inclusion_proof, tree_root
from yakuba.audit._store._tables import checkpoints
from yakuba.audit._store._tree import TileReader
from yakuba.audit._tiles import TileBuilder
from yakuba.clock import SystemClock
from yakuba.database import make_engine
from yakuba.machine import cpu_model

__all__ = ["bench_audit"]

ORIGIN = "yakuba/bench/audit/issuer-bench"
BULK_CHUNK = 50_000
"""Rows per bulk-load transaction: large enough to amortise commits, small enough to show progress."""

BATCH_SIZE = 100
"""Entries per transaction in the second append phase: shows the marginal cost of `append` itself, without
the caller's per-transaction overhead (a registry import, a nightly job, or many changes in one request)."""

_BODY = (
    '{{"actor":{{"instance":"issuer-bench","role":"issuer"}},"event":"issuance.requested",'
    '"fields":{{"kind":"juminhyo","seq":{seq},"store":"store-{store:04d}"}},"subject":"{subject}",'
    '"time":"{time}","v":1}}'
)


def _machine() -> dict[str, Any]:
    model = cpu_model()
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def _entry(i: int, clock: SystemClock) -> AuditEntry:
    return AuditEntry(
        event_type="issuance.requested",
        actor=Actor(role="issuer", instance="issuer-bench"),
        time=clock.now(),
        subject=hashlib.sha256(i.to_bytes(8, "big")).hexdigest(),
        fields={"kind": "juminhyo", "seq": i, "store": f"store-{i % 5000:04d}"},
    )


def _append_phase(
    engine: Engine, signer: NoteSigner, *, seconds: float, batch: int, progress: Progress, label: str
) -> dict[str, Any]:
    """Append for SECONDS from one thread while the integrator checkpoints every second in another."""
    log = AuditLog.open(engine=engine, origin=ORIGIN)
    clock = SystemClock()
    integrator = Integrator(engine=engine, origin=ORIGIN, signer=signer)
    with engine.connect() as conn:
        before_size = log.tree_state().size
        before_cps = len(conn.execute(select(checkpoints.c.tree_size)).all())
    task = progress.add_task(label, total=seconds)
    n = 0
    start = time.perf_counter()
    with integrator.start():
        while (elapsed := time.perf_counter() - start) < seconds:
            with engine.begin() as conn:  # one caller transaction; each entry appended on its own
                for j in range(batch):
                    log.append(conn, _entry(n + j, clock))
            n += batch
            if n % (batch * 50) == 0:
                progress.update(task, completed=min(elapsed, seconds))
        elapsed = time.perf_counter() - start
        flush_start = time.perf_counter()
    flush = time.perf_counter() - flush_start
    progress.update(task, completed=seconds)
    with engine.connect() as conn:
        rows = conn.execute(
            select(checkpoints.c.tree_size, checkpoints.c.created_at).order_by(checkpoints.c.tree_size)
        ).all()[before_cps:]
    stamps = [_parse(r.created_at) for r in rows]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    return {
        "entries_per_transaction": batch,
        "appends": n,
        "seconds": round(elapsed, 3),
        "appends_per_second": round(n / elapsed),
        "checkpoints_published": len(rows),
        "max_seconds_between_checkpoints": round(max(gaps), 3) if gaps else None,
        "final_flush_seconds": round(flush, 3),
        "tree_size": log.tree_state().size - before_size,
    }


def _worker(url: str, seconds: float, worker: int, start: Any, out: Any) -> None:
    """One appender process: single-entry transactions for SECONDS, then report its count."""
    engine = make_engine(url)
    log = AuditLog(engine=engine, origin=ORIGIN)
    clock = SystemClock()
    n = 0
    start.wait()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        with engine.begin() as conn:
            log.append(conn, _entry(worker * 1_000_000_000 + n, clock))
        n += 1
    out.put((n, time.perf_counter() - t0))
    engine.dispose()


def _multiprocess_phase(url: str, signer: NoteSigner, *, seconds: float, processes: int) -> dict[str, Any]:
    """PROCESSES appender processes (like a service's workers) on one log, the integrator in this one."""
    engine = make_engine(url)
    log = AuditLog.open(engine=engine, origin=ORIGIN)
    before = log.tree_state().size
    ctx = multiprocessing.get_context("fork")  # children inherit the loaded modules; no threads run yet
    start, out = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(url, seconds, w, start, out)) for w in range(processes)]
    for w in workers:
        w.start()
    integrator = Integrator(engine=engine, origin=ORIGIN, signer=signer)
    with integrator.start():
        start.set()
        counts = [out.get() for _ in workers]
    for w in workers:
        w.join()
    total = sum(n for n, _t in counts)
    elapsed = max(t for _n, t in counts)
    size = log.tree_state().size - before
    engine.dispose()
    return {
        "processes": processes,
        "entries_per_transaction": 1,
        "appends": total,
        "seconds": round(elapsed, 3),
        "appends_per_second": round(total / elapsed),
        "all_integrated": size == total,
    }


def _parse(stamp: str) -> float:
    import datetime as dt

    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC).timestamp()


def _bulk_load(engine: Engine, signer: NoteSigner, size: int, advance: Callable[[int], None]) -> None:
    """Fill a fresh log with SIZE entries fast: leaves and tiles written directly, one checkpoint at the end.

    A benchmark shortcut (the integrator's per-row sequencing is skipped); the tree it builds is the
    same one, so proofs and verification behave exactly as on a log grown by appends.
    """
    AuditLog.open(engine=engine, origin=ORIGIN)
    sample = _entry(0, SystemClock())
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("PRAGMA cache_size=-262144")
        cur.execute("DROP INDEX IF EXISTS audit_entries_subject")  # rebuilt once at the end: sorted, fast
        builder = TileBuilder()
        base = 1_743_465_600  # 2025-04-01T00:00:00Z
        sha = hashlib.sha256
        for start in range(0, size, BULK_CHUNK):
            rows = []
            done = []
            for i in range(start, min(size, start + BULK_CHUNK)):
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + i // 100)) + ".000000Z"
                subject = sha(i.to_bytes(8, "big")).hexdigest()
                body = _BODY.format(seq=i, store=i % 5000, subject=subject, time=stamp).encode()
                h = sha(b"\x00" + body).digest()
                rows.append((i, h, body, "issuance.requested", subject, stamp))
                done.extend(builder.append(h))
            if start == 0:  # the template must be exactly what AuditEntry would have written
                AuditEntry.from_canonical_bytes(rows[0][2])
                assert sample.canonical_bytes().startswith(rows[0][2][:60])
            cur.executemany(
                "INSERT INTO audit_entries (leaf_index, leaf_hash, body, event_type, subject_hash, event_time)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            cur.executemany(
                "INSERT INTO audit_tiles (level, idx, width, hashes) VALUES (?, ?, ?, ?)",
                [(t.level, t.index, t.width, t.blob) for t in done],
            )
            raw.commit()
            advance(len(rows))
        cur.executemany(
            "INSERT INTO audit_tiles (level, idx, width, hashes) VALUES (?, ?, ?, ?)",
            [(t.level, t.index, t.width, t.blob) for t in builder.partial_tiles()],
        )
        cur.execute("CREATE INDEX audit_entries_subject ON audit_entries (subject_hash, event_time)")
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        root = tree_root(size, TileReader(conn))
        note = Checkpoint(origin=ORIGIN, size=size, root_hash=root).sign(signer)
        conn.exec_driver_sql(
            "INSERT INTO audit_checkpoints (tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?)",
            (size, root, note, "2025-04-01T00:00:00.000000Z"),
        )
        conn.exec_driver_sql("UPDATE audit_state SET tree_size = ?, root_hash = ?", (size, root))


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "mean_ms": round(statistics.fmean(ordered) * 1000, 4),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 4),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 4),
        "max_ms": round(ordered[-1] * 1000, 4),
    }


def _proof_phase(engine: Engine, signer: NoteSigner, size: int, count: int) -> dict[str, Any]:
    rng = random.Random(6962)  # noqa: S311 - sampling indices for timing, not security
    log = AuditLog.attach(engine=engine)
    key = signer.verifier()
    core_incl, api_incl, core_cons, verify_times, verify_full = [], [], [], [], []
    with engine.connect() as conn:
        for _ in range(count):
            index = rng.randrange(size)
            t = time.perf_counter()
            inclusion_proof(index, size, TileReader(conn))
            core_incl.append(time.perf_counter() - t)
            old = rng.randrange(1, size)
            t = time.perf_counter()
            consistency_proof(old, size, TileReader(conn))
            core_cons.append(time.perf_counter() - t)
    for _ in range(count):
        index = rng.randrange(size)
        t = time.perf_counter()
        proof = log.inclusion_proof(index)
        api_incl.append(time.perf_counter() - t)
        cp = Checkpoint.parse_body(proof.checkpoint.split("\n\n")[0] + "\n")
        t = time.perf_counter()
        verify_inclusion(leaf=proof.leaf_hash, index=index, size=size, proof=proof.hashes, root=cp.root_hash)
        verify_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        verify_entry_inclusion(
            note=proof.checkpoint, log_key=key, leaf_hash=proof.leaf_hash, index=index, proof=proof.hashes
        )
        verify_full.append(time.perf_counter() - t)
    return {
        "log_size": size,
        "proofs_sampled": count,
        "inclusion_proof_core": _summary(core_incl),
        "inclusion_proof_api_with_checkpoint": _summary(api_incl),
        "consistency_proof_core": _summary(core_cons),
        "verify_inclusion_proof_only": _summary(verify_times),
        "verify_inclusion_with_checkpoint_signature": _summary(verify_full),
    }


def bench_audit(
    size: Annotated[int, typer.Option("--size", help="Entries in the large log for the proof timings.")] = 10_000_000,
    seconds: Annotated[float, typer.Option("--seconds", help="Duration of each append phase.")] = 10.0,
    proofs: Annotated[int, typer.Option("--proofs", help="Proofs sampled on the large log.")] = 2000,
    full_verify: Annotated[
        bool, typer.Option("--full-verify/--no-full-verify", help="Also run `audit verify` on the large log.")
    ] = False,
    workdir: Annotated[
        Path | None, typer.Option("--workdir", help="Folder for the benchmark databases (default: a temp dir).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--json", help="Also write the results as JSON here.")] = None,
    processes: Annotated[
        int, typer.Option("--processes", help="Appender processes in the multi-process phase (0: one per core).")
    ] = 0,
) -> None:
    """Benchmark the audit log on SQLite: appends/s with checkpoints every second, proofs, verification."""
    console = Console()
    results: dict[str, Any] = {"machine": _machine()}
    own_dir = workdir is None
    folder = Path(tempfile.mkdtemp(prefix="yakuba-bench-audit-")) if workdir is None else workdir
    folder.mkdir(parents=True, exist_ok=True)
    signer = NoteSigner.generate(name=ORIGIN)
    processes = processes or os.cpu_count() or 2
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    try:
        console.print(f"{processes} appender processes for {seconds} s ...")
        results["append_processes"] = _multiprocess_phase(
            f"sqlite:///{folder / 'multi.db'}", signer, seconds=seconds, processes=processes
        )
        with Progress(*columns, console=console) as progress:
            engine = make_engine(f"sqlite:///{folder / 'append.db'}")
            results["append_single"] = _append_phase(
                engine, signer, seconds=seconds, batch=1, progress=progress, label="append, 1 entry/transaction"
            )
            results["append_batched"] = _append_phase(
                engine,
                signer,
                seconds=seconds,
                batch=BATCH_SIZE,
                progress=progress,
                label=f"append, {BATCH_SIZE} entries/transaction",
            )
            size_small = AuditLog.attach(engine=engine).tree_state().size
            t = time.perf_counter()
            report = verify_log(engine, log_key=signer.verifier())
            took = time.perf_counter() - t
            results["verify_append_log"] = {
                "entries": report.entries,
                "checkpoints": report.checkpoints,
                "seconds": round(took, 3),
                "entries_per_second": round(size_small / took),
            }
            engine.dispose()

            big = make_engine(f"sqlite:///{folder / 'large.db'}")
            task = progress.add_task(f"bulk-load {size:,} entries", total=size)
            t = time.perf_counter()
            _bulk_load(big, signer, size, lambda n: progress.advance(task, n))
            results["bulk_load"] = {"entries": size, "seconds": round(time.perf_counter() - t, 1)}
            results["proofs"] = _proof_phase(big, signer, size, proofs)
            if full_verify:
                vtask = progress.add_task(f"verify {size:,} entries", total=size)
                t = time.perf_counter()
                verify_log(
                    big, log_key=signer.verifier(), progress=lambda done, _total: progress.update(vtask, completed=done)
                )
                took = time.perf_counter() - t
                results["verify_large_log"] = {"seconds": round(took, 1), "entries_per_second": round(size / took)}
            big.dispose()
    finally:
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)
    _print(console, results)
    if output is not None:
        output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def _print(console: Console, results: dict[str, Any]) -> None:
    m = results["machine"]
    console.print(
        f"[bold]machine[/bold]: {m['cores']} cores, {m['cpu_model']}, Python {m['python']}, SQLite {m['sqlite']}"
    )
    table = Table("measure", "value")
    r = results["append_processes"]
    table.add_row(
        f"appends/s ({r['processes']} processes, 1 per transaction, checkpoints every second)",
        f"{r['appends_per_second']:,} (all integrated: {r['all_integrated']})",
    )
    for key in ("append_single", "append_batched"):
        r = results[key]
        table.add_row(
            f"appends/s ({r['entries_per_transaction']} per transaction, checkpoints every second)",
            f"{r['appends_per_second']:,} ({r['checkpoints_published']} checkpoints, "
            f"max gap {r['max_seconds_between_checkpoints']} s)",
        )
    v = results["verify_append_log"]
    table.add_row(
        f"audit verify ({v['entries']:,} entries)", f"{v['seconds']} s ({v['entries_per_second']:,} entries/s)"
    )
    table.add_row(f"bulk load {results['bulk_load']['entries']:,} entries", f"{results['bulk_load']['seconds']} s")
    p = results["proofs"]
    for key in (
        "inclusion_proof_core",
        "inclusion_proof_api_with_checkpoint",
        "consistency_proof_core",
        "verify_inclusion_proof_only",
        "verify_inclusion_with_checkpoint_signature",
    ):
        s = p[key]
        table.add_row(
            f"{key.replace('_', ' ')} (log of {p['log_size']:,})",
            f"mean {s['mean_ms']} ms, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms",
        )
    if "verify_large_log" in results:
        r = results["verify_large_log"]
        table.add_row("audit verify (large log)", f"{r['seconds']} s ({r['entries_per_second']:,} entries/s)")
    console.print(table)
