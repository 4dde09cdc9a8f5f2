"""The checks against a running network on loopback, and the report rendered from it (issue 10)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import pytest_asyncio

from yakuba.clock import FixedClock, SystemClock
from yakuba.config import SAMPLE_PORTS, Deployment, write_sample
from yakuba.council import sample_record
from yakuba.council.checks import Verdict, probe_network, run_checks
from yakuba.council.report import SECTION_TITLES, Period, build_report, write_report
from yakuba.council.store import fetch_settlement_rows
from yakuba.kiosk.service import Choice, run_transaction
from yakuba.kiosk.terminal import open_kiosk
from yakuba.network import LocalNetwork
from yakuba.network.ports import free_port_block
from yakuba.network.sample_town import SampleTown, Situation, next_open_weekday
from yakuba.pki import init_pki
from yakuba.pki.card import VirtualCardReader
from yakuba.recorder import init_recorder
from yakuba.storehq import wait_until_reported

pytestmark = pytest.mark.asyncio(loop_scope="module")

NISHITOKYO = "132292"


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[Deployment, FixedClock, SampleTown]:
    base = free_port_block(SAMPLE_PORTS * 2)
    dep = write_sample(tmp_path_factory.mktemp("council") / "deployment", base_port=base)
    init_pki(dep)
    clock = FixedClock(next_open_weekday(SystemClock().now()))
    return dep, clock, SampleTown.create(dep, clock=clock, residents=40, seed=2016)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running(town: tuple[Deployment, FixedClock, SampleTown]) -> AsyncIterator[tuple[Deployment, FixedClock]]:
    dep, clock, sample = town
    async with LocalNetwork(dep=dep, clock=clock):
        card = sample.card(Situation.HOUSEHOLD, city_code=NISHITOKYO)
        async with open_kiosk(dep, instance="midori-tanashi-1", clock=clock) as terminal:
            await run_transaction(
                terminal,
                reader=VirtualCardReader.open(dep, path=card.path),
                choice=Choice(basis="residence", city=NISHITOKYO, kind="juminhyo", options={}, copies=2),
                pin=card.pin,
            )
        # The HQ answers the kiosk at once; the center's settlement line closes from its next batch.
        assert await wait_until_reported(dep, timeout_s=30.0) == 0
        yield dep, clock


async def test_every_hop_is_mutual_tls_on_the_live_network(running: tuple[Deployment, FixedClock]) -> None:
    dep, _ = running
    probes = await probe_network(dep)
    assert probes
    assert all(p.tls_version in ("TLSv1.3", "TLSv1.2") for p in probes)
    assert all(p.anonymous_refused for p in probes)
    assert all(p.server_issuer == p.segment_ca for p in probes)


async def test_report_figures_equal_the_settlement_and_the_pdf_has_every_section(
    running: tuple[Deployment, FixedClock], tmp_path: Path
) -> None:
    dep, clock = running
    recorder = init_recorder(dep)
    month = clock.now().strftime("%Y-%m")
    period = Period.parse(month)
    report = await build_report(dep, record=sample_record(), recorder=recorder, period=period, clock=clock)
    results = report.findings.results
    assert results["network.mutual_tls"].verdict is Verdict.HOLDS
    assert results["network.sealed_end_to_end"].verdict is Verdict.HOLDS
    assert results["relays.no_personal_data"].verdict is Verdict.HOLDS
    assert results["recorder.media_ledger"].verdict is Verdict.HOLDS
    rows = fetch_settlement_rows(dep, first_day=period.first, last_day=period.last)
    assert report.statistics.total == sum(r.copies_printed for r in rows) == 2
    assert report.statistics.by_kind_month == {("juminhyo", month): 2}
    pdf, page = write_report(report, tmp_path)
    document = pdfium.PdfDocument(pdf.read_bytes())
    try:
        text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    for title in SECTION_TITLES:
        assert title in text.replace("\r\n", "").replace("\n", "")
    assert "全員一致ではない" in page.read_text(encoding="utf-8")
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png"))


async def _plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1024)
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{"status":"ok"}')
    await writer.drain()
    writer.close()


async def test_a_hop_switched_to_plain_http_fails(tmp_path: Path) -> None:
    dep = write_sample(tmp_path / "deployment", base_port=free_port_block(SAMPLE_PORTS * 2))
    init_pki(dep)
    clock = FixedClock(next_open_weekday(SystemClock().now()))
    forwarder = dep.cities[0].forwarder
    moved = {forwarder.instance: forwarder.port + SAMPLE_PORTS}
    async with LocalNetwork(dep=dep, clock=clock, listen_ports=moved):
        plain = await asyncio.start_server(_plain_http, forwarder.host, forwarder.port)
        try:
            findings = await run_checks(
                dep, record=sample_record(), recorder=None, since=clock.now(), until=clock.now()
            )
        finally:
            plain.close()
            await plain.wait_closed()
    result = findings.results["network.mutual_tls"]
    assert result.verdict is Verdict.FAILS
    assert any(forwarder.instance in line and "plain HTTP" in line for line in result.evidence)
