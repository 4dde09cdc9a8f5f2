"""`yakuba bench issuance` end to end on a tiny run: real role processes, real mTLS, real documents."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from yakuba.bench import Settings, run_bench
from yakuba.wire.messages import MAX_COMPLETION_BATCH

pytestmark = pytest.mark.slow


def test_a_tiny_run_issues_verifiable_certificates_and_accounts_cpu_per_role(tmp_path: Path) -> None:
    settings = Settings(duration=3.0, warmup=0.5, kiosks=2, cards=4, residents=150, ceiling_seconds=1.0, verify_every=1)
    printed = io.StringIO()

    result = run_bench(settings, out=tmp_path, console=Console(file=printed, width=120))

    written = json.loads((tmp_path / "issuance.json").read_text(encoding="utf-8"))
    assert written["end_to_end"] == result["end_to_end"]
    assert (tmp_path / "issuance.png").stat().st_size > 0
    e2e = result["end_to_end"]
    assert e2e["certificates"] > 0
    assert e2e["failed"] == 0
    assert e2e["pages"] == {"1": e2e["certificates"]}
    assert e2e["latency_ms"]["p50"] <= e2e["latency_ms"]["p99"] <= e2e["latency_ms"]["max"]
    # Every document kept as a sample opens and verifies as the kiosk verifies it.
    assert result["verified_documents"]["sampled"] > 0
    assert result["verified_documents"]["valid"] == result["verified_documents"]["sampled"]
    # The roles that touch every certificate spent CPU on it; the driver's share is reported apart.
    cpu = result["cpu_ms_per_certificate"]
    for role in ("center", "storehq", "forwarder", "issuer", "kiosk driver"):
        assert cpu[role] > 0
    assert result["cpu_ms_per_certificate_all_roles"] == pytest.approx(
        sum(ms for role, ms in cpu.items() if role != "kiosk driver"), abs=0.05
    )
    assert result["ceiling"]["documents"] > 0
    assert not math.isnan(result["ratio_to_ceiling"])
    assert 0 < result["ratio_to_ceiling_by_cpu"] < 1  # the chain costs more CPU than the documents alone
    # The HQs' outboxes kept up: at most a batch or so of completions was still on its way when driving ended.
    assert 0 <= result["completions_queued_at_end"] <= MAX_COMPLETION_BATCH
    # The run was inside service hours on its own clock, whatever the time of day.
    assert "T10:" in result["settings"]["run_clock_start"]
    # The roles' logs are kept beside the figures, and no role failed inside.
    logs = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "logs").glob("*.log"))
    assert "Traceback" not in logs
