"""Freshness under concurrency: a registry event committed while a resident's requests are in flight takes
effect for every request that starts after the commit (domain.md: de-registered seals certified after a broken
sync, a stale address printed after a move). Requests that started before may go either way, but never after.

The chain runs in a thread of its own; each scenario issues the resident's requests one after another from a
kiosk while other residents issue from other kiosks, and commits the event from another thread mid-flight."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from yakuba.clock import FixedClock, SystemClock
from yakuba.config import SAMPLE_PORTS, Deployment, write_sample
from yakuba.documents import DocumentTrust, verify_document
from yakuba.errors import YakubaError
from yakuba.network import LocalNetwork
from yakuba.network.ports import free_port_block
from yakuba.network.sample_town import SampleTown, Situation, TownCard, next_open_weekday
from yakuba.pki import init_pki
from yakuba.registry import Address, open_city_registry

pytestmark = pytest.mark.slow

AFTER_COMMIT = 3
"""Requests of the resident that start after the commit, each of which must see it."""


@dataclass
class Town:
    dep: Deployment
    clock: FixedClock
    town: SampleTown
    loop: asyncio.AbstractEventLoop

    def run(self, coro: object, timeout: float = 600) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    dep = write_sample(tmp_path_factory.mktemp("fresh") / "deployment", base_port=free_port_block(SAMPLE_PORTS))
    init_pki(dep)
    clock = FixedClock(next_open_weekday(SystemClock().now()))
    sample = SampleTown.create(dep, clock=clock, residents=150, seed=2016)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fresh-network", daemon=True)
    thread.start()
    network = LocalNetwork(dep=dep, clock=clock)
    asyncio.run_coroutine_threadsafe(network.start(), loop).result(timeout=180)
    try:
        yield Town(dep=dep, clock=clock, town=sample, loop=loop)
    finally:
        asyncio.run_coroutine_threadsafe(network.stop(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


@dataclass
class Result:
    started: float
    printed: tuple[Path, ...]
    code: str | None


async def _issue(town: Town, kiosk: str, card: TownCard, kind: str, out: Path) -> Result:
    from yakuba.kiosk.service import Choice, run_transaction
    from yakuba.kiosk.terminal import open_kiosk
    from yakuba.pki.card import VirtualCardReader

    started = time.monotonic()
    try:
        async with open_kiosk(town.dep, instance=kiosk, clock=town.clock) as terminal:
            _receipt, taken = await run_transaction(
                terminal,
                reader=VirtualCardReader.open(town.dep, path=card.path),
                choice=Choice(basis="residence", city=card.city_code, kind=kind, options={}),
                pin=card.pin,
                take_to=out / f"{started:.6f}",
            )
        return Result(started=started, printed=taken, code=None)
    except YakubaError as exc:
        return Result(started=started, printed=(), code=exc.code)


async def _scenario(
    town: Town, card: TownCard, kind: str, event: Callable[[], None], out: Path, *, background: TownCard
) -> tuple[list[Result], float]:
    """The resident's requests one after another at one kiosk, another resident's at another kiosk all along,
    and EVENT committed from a thread while the resident's second request is in flight."""
    kiosks = [k.instance for _, k in town.dep.kiosks() if k.instance != "nishitokyo-hall-1"]
    results: list[Result] = []
    committed: list[float] = []
    stop = asyncio.Event()

    async def other_traffic() -> None:
        while not stop.is_set():
            await _issue(town, kiosks[1], background, "juminhyo", out / "other")

    async def commit_soon() -> None:
        await asyncio.sleep(0.05)
        await asyncio.to_thread(event)
        committed.append(time.monotonic())

    traffic = asyncio.create_task(other_traffic())
    try:
        results.append(await _issue(town, kiosks[0], card, kind, out))
        committer = asyncio.create_task(commit_soon())
        results.append(await _issue(town, kiosks[0], card, kind, out))  # in flight when the event commits
        await committer
        for _ in range(AFTER_COMMIT):
            results.append(await _issue(town, kiosks[0], card, kind, out))
    finally:
        stop.set()
        await traffic
    return results, committed[0]


def _after(results: list[Result], commit: float) -> list[Result]:
    after = [r for r in results if r.started > commit]
    assert len(after) >= AFTER_COMMIT
    return after


def test_a_seal_deregistered_mid_run_is_never_certified_by_a_later_request(town: Town, tmp_path: Path) -> None:
    card = town.town.card(Situation.SEAL)
    registry = open_city_registry(town.dep, card.city_code, clock=town.clock)
    try:
        results, commit = town.run(
            _scenario(
                town,
                card,
                "inkan",
                lambda: registry.events.deregister_seal(person_id=card.person_id),
                tmp_path,
                background=town.town.card(Situation.HOUSEHOLD),
            )
        )  # type: ignore[misc]
    finally:
        registry.db.dispose()
    assert results[0].printed, results[0].code  # before the event: certified
    assert all(not r.printed and r.code for r in _after(results, commit))


def test_a_support_measure_set_mid_run_refuses_every_later_request(town: Town, tmp_path: Path) -> None:
    card = town.town.card(Situation.KOSEKI)  # an adult with no measure yet, other than the background resident
    registry = open_city_registry(town.dep, card.city_code, clock=town.clock)
    try:
        results, commit = town.run(
            _scenario(
                town,
                card,
                "juminhyo",
                lambda: registry.events.set_support_measure(person_id=card.person_id, on=True),
                tmp_path,
                background=town.town.card(Situation.HOUSEHOLD),
            )
        )  # type: ignore[misc]
    finally:
        registry.db.dispose()
    assert results[0].printed, results[0].code
    assert all(not r.printed and r.code for r in _after(results, commit))


def test_an_address_change_mid_run_is_on_every_later_certificate_or_it_is_refused(town: Town, tmp_path: Path) -> None:
    card = town.town.card(Situation.HOUSEHOLD)
    registry = open_city_registry(town.dep, card.city_code, clock=town.clock)
    with registry.db.transaction() as tx:
        old = tx.fetch_person(card.person_id).address
    new = Address(prefecture=old.prefecture, city=old.city, town="試験新町", chome=9, ban=9, go=9)
    try:
        results, commit = town.run(
            _scenario(
                town,
                card,
                "juminhyo",
                lambda: registry.events.move_within(
                    person_id=card.person_id, address=new, moved_on=town.clock.now().date()
                ),
                tmp_path,
                background=town.town.card(Situation.SEAL),
            )
        )  # type: ignore[misc]
    finally:
        registry.db.dispose()
    assert results[0].printed, results[0].code
    trust = DocumentTrust.from_key_dir(town.dep.key_dir)
    before = "".join(str(verify_document(results[0].printed[0].read_bytes(), trust=trust).certified).split())
    assert "試験新町" not in before
    for result in _after(results, commit):
        # The move revokes the card at the counter, so a later request is refused; if one were printed, it
        # would have to carry the new address.
        for path in result.printed:
            text = "".join(str(verify_document(path.read_bytes(), trust=trust).certified).split())
            assert "試験新町" in text
        assert result.printed or result.code
