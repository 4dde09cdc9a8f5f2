"""`yakuba demo`: run what exists end to end on the embedded defaults and show each step."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from yakuba.clock import SystemClock
from yakuba.config import Deployment, segments, write_sample
from yakuba.errors import ConfigError, VerificationError, WrongPinError

__all__ = ["DEMO_MARKER", "demo"]

DEMO_MARKER = ".yakuba-demo"
"""A file that marks a folder as made by `yakuba demo`, so a rerun may replace it and nothing else."""

DEMO_PIN = "1234"
"""The demo card's PIN; the demo also shows a wrong one being counted."""


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo deployment and its outputs.")] = Path("demo-output"),
) -> None:
    """Create a deployment and its PKI, show the building blocks, then issue every kind through the chain."""
    console = Console()
    dep = _fresh_deployment(out, console)
    _show_pki(dep, console)
    _card_and_challenge(dep, console)
    asyncio.run(_mutual_tls(dep, console))
    from yakuba.cli._demo_chain import run_chain

    console.rule("[bold]6. The whole chain: every certificate kind from a store kiosk[/bold]")
    run_chain(dep, out, console)
    from yakuba.cli._demo_recorder import run_recorder

    console.rule("[bold]7. Drive-recorder footage from the garbage trucks[/bold]")
    run_recorder(dep, out, console)
    console.print(Panel.fit(f"Demo finished. Everything it made is under [bold]{out}[/bold].", style="green"))


def _fresh_deployment(out: Path, console: Console) -> Deployment:
    from yakuba.pki import init_pki

    if out.exists():
        if not (out / DEMO_MARKER).exists():
            raise ConfigError(
                f"{out}: exists and was not made by `yakuba demo`; choose another --out",
                ja=f"{out}: `yakuba demo` が作ったフォルダではありません。別の --out を指定してください",
            )
        shutil.rmtree(out)
    console.rule("[bold]1. A deployment[/bold]")
    from yakuba.config import SAMPLE_PORTS
    from yakuba.network.ports import free_port_block

    # A free block of ports, so the demo runs beside a deployment already up on the default ports.
    dep = write_sample(out / "deployment", base_port=free_port_block(SAMPLE_PORTS))
    (out / DEMO_MARKER).write_text("made by yakuba demo; a rerun replaces this folder\n", encoding="utf-8")
    with console.status("creating the PKI (RSA-2048 keys for the JPKI CA take a moment)…"):
        summary = init_pki(dep)
    table = Table(title="role instances (each its own loopback port and SQLite file)")
    for column in ("role", "instance", "address", "database"):
        table.add_column(column)
    for role, svc in dep.services():
        table.add_row(str(role), svc.instance, f"{svc.host}:{svc.port}", svc.database)
    console.print(table)
    console.print(f"cities: {', '.join(f'{c.name} ({c.code})' for c in dep.cities)}")
    console.print(f"PKI: {summary}")
    return dep


def _show_pki(dep: Deployment, console: Console) -> None:
    console.rule("[bold]2. One CA per network segment[/bold]")
    table = Table(title="a certificate from one segment is refused on every other")
    for column in ("segment", "servers", "clients"):
        table.add_column(column)
    for seg in segments(dep):
        table.add_row(seg.id, ", ".join(m.instance for m in seg.servers), ", ".join(m.instance for m in seg.clients))
    console.print(table)


def _card_and_challenge(dep: Deployment, console: Console) -> None:
    from yakuba.database import make_engine
    from yakuba.pki import CardTrust
    from yakuba.pki.card import VirtualCardReader, enrol_card
    from yakuba.wire import ChallengeStore, request_digest
    from yakuba.wire.card_auth import card_auth_digest, verify_card_authentication

    console.rule("[bold]3. A My Number card signs a one-time challenge[/bold]")
    clock = SystemClock()
    city = dep.cities[0]
    chain, kiosk = next(dep.kiosks())
    card_path = dep.state_dir / "cards" / "demo-resident.card"
    card_path.parent.mkdir(parents=True, exist_ok=True)
    info = enrol_card(dep, city_code=city.code, pin=DEMO_PIN, path=card_path)
    console.print(f"card enrolled at the {city.name} counter: serial {info.serial} (no name, address or birth date)")

    engine = make_engine(dep.database_url(dep.center.database))
    try:
        challenges = ChallengeStore.open(engine=engine, clock=clock)
        challenge = challenges.issue(kiosk.instance)
        request = {"city": city.code, "kind": "juminhyo", "copies": 1, "options": {"household": "self"}}
        digest = request_digest(request)
        with VirtualCardReader.open(dep, path=card_path) as card:
            card.select_jpki_ap()
            cert_der = card.read_auth_certificate()
            console.print(f"tries left before the PIN: {card.pin_tries_left()}")
            try:
                card.verify_pin("0000")
            except WrongPinError as exc:
                console.print(f"wrong PIN entered → [yellow]{exc.text_ja}[/yellow]")
            card.verify_pin(DEMO_PIN)
            console.print(f"right PIN entered → tries left reset to {card.pin_tries_left()}")
            to_sign = card_auth_digest(challenge=challenge.value, request_digest=digest, kiosk_id=kiosk.instance)
            signature = card.sign_digest(to_sign)
        trust = CardTrust.from_deployment(dep)
        verify_card_authentication(
            trust=trust,
            certificate_der=cert_der,
            signature=signature,
            challenge=challenge.value,
            request_digest=digest,
            kiosk_id=kiosk.instance,
            now=clock.now(),
        )
        challenges.consume(challenge.value, kiosk.instance)
        console.print(
            f"[green]center checks[/green]: card chain to the JPKI root, not revoked, signature over "
            f"challenge ‖ request digest ‖ kiosk id {kiosk.instance} ({chain.name}) — valid; challenge consumed"
        )
        try:
            challenges.consume(challenge.value, kiosk.instance)
        except VerificationError as exc:
            console.print(f"the same challenge again (a replay) → [red]refused[/red]: {exc.text_en}")
    finally:
        engine.dispose()
    _sealing(console, cert_der, digest)


def _sealing(console: Console, cert_der: bytes, digest: bytes) -> None:
    from yakuba.wire import SealingBinding, TransactionKey, card_fingerprint, seal

    console.rule("[bold]4. The certificate travels sealed end to end[/bold]")
    key = TransactionKey.generate()
    binding = SealingBinding(
        transaction_id=f"tx-{uuid.uuid4().hex}",
        card_fingerprint=card_fingerprint(cert_der),
        request_digest=digest,
        purpose="certificate",
    )
    payload = "住民票の写し (demo payload) issued " + dt.datetime.now(dt.UTC).isoformat()
    envelope = seal(payload.encode(), recipient_public=key.public_bytes(), binding=binding)
    console.print(
        f"issuer sealed {len(payload.encode())} bytes to the kiosk's one-time X25519 key → envelope of "
        f"{len(envelope)} bytes; relays see only this"
    )
    opened = key.open(envelope, binding=binding).decode()
    console.print(f"[green]kiosk opened it[/green] with its transaction key: {opened!r}")
    other = SealingBinding(
        transaction_id=f"tx-{uuid.uuid4().hex}",
        card_fingerprint=binding.card_fingerprint,
        request_digest=digest,
        purpose="certificate",
    )
    try:
        key.open(envelope, binding=other)
    except VerificationError as exc:
        console.print(f"opening it for another transaction → [red]refused[/red]: {exc.text_en}")
    tampered = bytearray(envelope)
    tampered[len(tampered) // 2] ^= 1
    try:
        key.open(bytes(tampered), binding=binding)
    except VerificationError as exc:
        console.print(f"one bit flipped on the way → [red]refused[/red]: {exc.text_en}")


async def _mutual_tls(dep: Deployment, console: Console) -> None:
    """One real mTLS hop on the dedicated line: HQ -> center accepted, a kiosk's certificate refused."""
    from yakuba.cli._demo_hello import hello_app
    from yakuba.config import Role
    from yakuba.errors import UpstreamError
    from yakuba.pki import load_service_identity
    from yakuba.wire import Server, ServiceClient, client_session

    console.rule("[bold]5. Mutual TLS on every link[/bold]")
    app = hello_app()
    center_identity = load_service_identity(dep, instance=dep.center.instance, segment_id="dedicated")
    chain, kiosk = next(dep.kiosks())
    async with Server(app=app, identity=center_identity, host="127.0.0.1", port=0) as server:
        hq_identity = load_service_identity(dep, instance=chain.hq.instance, segment_id="dedicated")
        async with client_session(hq_identity, expected_role=Role.CENTER) as session:
            client = ServiceClient(session=session, base_url=server.base_url, expected_role=Role.CENTER)
            answer = await client.post_json("/v1/hello", {}, idempotency_key=None)
        console.print(f"{chain.hq.instance} → center over the dedicated line: [green]accepted[/green], {answer}")
        kiosk_identity = load_service_identity(dep, instance=kiosk.instance, segment_id=f"store:{chain.id}")
        async with client_session(kiosk_identity, expected_role=Role.CENTER) as session:
            client = ServiceClient(session=session, base_url=server.base_url, expected_role=Role.CENTER)
            try:
                await client.post_json("/v1/hello", {}, idempotency_key=None)
            except UpstreamError as exc:
                console.print(
                    f"{kiosk.instance} (a store-network certificate) → center: [red]refused in the TLS handshake[/red]"
                    f" ({exc.code})"
                )
