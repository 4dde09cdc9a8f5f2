"""The JPKI status service over real mTLS: the CRL as published (re-read at once), batch status, daily counts."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from yakuba.config import Deployment, Role, write_sample
from yakuba.errors import AuthorizationError, ConfigError, ValidationError
from yakuba.jpki import MAX_STATUS_BATCH, CardStatus, create_app, listen_segment
from yakuba.pki import CardTrust, add_lapsed_serials, init_pki, load_crl, load_service_identity, revoke_card
from yakuba.pki.card import CardInfo
from yakuba.wire import ServiceClient, client_session

from .conftest import Running, running_jpki


def _db_path(dep: Deployment) -> str:
    return dep.database_url(dep.jpki.database).removeprefix("sqlite:///")


async def test_health_names_the_role_and_instance(jpki: Running) -> None:
    async with jpki.session.get(jpki.server.base_url + "/v1/health") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "role": "jpki", "instance": jpki.dep.jpki.instance}


async def test_crl_is_the_signed_published_one_and_unchanged_is_cheap(jpki: Running) -> None:
    fetched = await jpki.client.fetch_crl(known_number=None)
    assert fetched.der is not None
    crl = x509.load_der_x509_crl(fetched.der)
    trust = CardTrust.from_deployment(jpki.dep)
    assert crl.is_signature_valid(trust.intermediate.public_key())  # type: ignore[arg-type]
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == fetched.number
    again = await jpki.client.fetch_crl(known_number=fetched.number)
    assert again.number == fetched.number
    assert again.der is None


async def test_a_revocation_is_served_at_once(jpki: Running, enrol: Callable[[], CardInfo]) -> None:
    card = enrol()
    before = await jpki.client.fetch_crl(known_number=None)
    assert (await jpki.client.status([card.serial])) == {card.serial: CardStatus.GOOD}
    revoke_card(jpki.dep, card.serial, "keyCompromise")
    after = await jpki.client.fetch_crl(known_number=before.number)
    assert after.number > before.number
    assert after.der is not None
    crl = x509.load_der_x509_crl(after.der)
    assert crl.get_revoked_certificate_by_serial_number(int(card.serial, 16)) is not None
    assert (await jpki.client.status([card.serial.lower()])) == {card.serial: CardStatus.REVOKED}


async def test_status_of_a_batch_tells_good_revoked_and_unknown(
    jpki: Running, enrol: Callable[[], CardInfo], caplog: pytest.LogCaptureFixture
) -> None:
    good, revoked = enrol(), enrol()
    revoke_card(jpki.dep, revoked.serial, "affiliationChanged")
    never_issued = "0123456789ABCDEF"
    caplog.set_level(logging.DEBUG)
    answer = await jpki.client.status([good.serial, revoked.serial, never_issued])
    assert answer == {
        good.serial: CardStatus.GOOD,
        revoked.serial: CardStatus.REVOKED,
        never_issued: CardStatus.UNKNOWN,
    }
    # The log counts; it never names a serial.
    assert "3 serials, 1 revoked" in caplog.text
    for serial in (good.serial, revoked.serial, never_issued):
        assert serial not in caplog.text
        assert serial.lower() not in caplog.text


async def test_malformed_serial_is_refused_without_echoing_it(jpki: Running) -> None:
    with pytest.raises(ValidationError) as caught:
        await jpki.client.status(["0123456789ABCDEF", "NOT-A-SERIAL-42"])
    assert "#1" in caught.value.text_en
    assert "NOT-A-SERIAL" not in caught.value.text_en


async def test_oversized_batch_is_refused(jpki: Running) -> None:
    with pytest.raises(ValidationError):
        await jpki.client.status(["0123456789ABCDEF"] * (MAX_STATUS_BATCH + 1))


async def test_bad_bodies_get_the_error_body_never_500(jpki: Running) -> None:
    url = jpki.server.base_url + "/v1/status"
    for data in (b"{not json", b'{"serials": "0123456789ABCDEF"}', b'{"serials": [1, 2]}', b"[]"):
        async with jpki.session.post(url, data=data, headers={"Content-Type": "application/json"}) as response:
            body = await response.json()
            assert response.status == 400, data
            assert body["error"] == "invalid_input"
            assert set(body) == {"error", "message", "message_ja"}
    async with jpki.session.get(jpki.server.base_url + "/v1/crl?known=-1") as response:
        assert response.status == 400


async def test_daily_counts_are_kept_and_hold_no_serial(jpki: Running, enrol: Callable[[], CardInfo]) -> None:
    card = enrol()
    await jpki.client.status([card.serial])
    await jpki.client.status([card.serial, "0123456789ABCDEF"])
    await jpki.client.fetch_crl(known_number=None)
    with sqlite3.connect(_db_path(jpki.dep)) as db:
        rows = {
            row[1]: row[2:] for row in db.execute("SELECT day, endpoint, queries, serials, revoked FROM status_queries")
        }
        dump = "\n".join(db.iterdump())
    assert rows["status"] == (2, 3, 0)
    assert rows["crl"][0] == 1
    assert card.serial not in dump.upper()
    assert str(int(card.serial, 16)) not in dump


async def test_only_the_center_is_served(jpki: Running) -> None:
    """A route policy refuses any role but the center, even one holding a certificate of the jlis CA."""
    assert listen_segment(jpki.dep, jpki.dep.jpki.instance) == "jlis"
    # The only client on jlis is the center; a JPKI-role certificate calling itself stands in for "another role".
    own = load_service_identity(jpki.dep, instance=jpki.dep.jpki.instance, segment_id="jlis")
    async with client_session(own, expected_role=Role.JPKI) as session:
        client = ServiceClient(session=session, base_url=jpki.server.base_url, expected_role=Role.JPKI)
        with pytest.raises(AuthorizationError):
            await client.post_json("/v1/status", {"serials": []}, idempotency_key=None)


def test_the_app_is_only_built_for_the_jpki_instance(deployment: Deployment) -> None:
    with pytest.raises(ConfigError):
        create_app(deployment, instance=deployment.center.instance)
    with pytest.raises(ConfigError):
        listen_segment(deployment, "midori-hq")


async def test_a_national_size_crl_arrives_whole(tmp_path: Path) -> None:
    """100,000 lapsed cards make a CRL of about 2 MB (3 MB as JSON): it arrives in many reads, and the client
    must take them all (a single read returned only the first part, which was then refused as not JSON)."""
    dep = write_sample(tmp_path / "deployment")
    init_pki(dep)
    add_lapsed_serials(dep, 100_000, seed=1)
    published = load_crl(dep)
    async with running_jpki(dep) as running:
        fetched = await running.client.fetch_crl(known_number=None)
    assert fetched.der is not None
    assert len(fetched.der) > 2_000_000
    crl = x509.load_der_x509_crl(fetched.der)
    assert crl.public_bytes(Encoding.DER) == published.public_bytes(Encoding.DER)
    assert sum(1 for _ in crl) == 100_000
