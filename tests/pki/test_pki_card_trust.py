"""The center's and issuer's check of a card: chain, validity, revocation, and the signature over the request."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from yakuba.config import Deployment
from yakuba.errors import ValidationError, VerificationError
from yakuba.pki import CardTrust, load_crl, revoke_card
from yakuba.pki.card import CardInfo, VirtualCardReader
from yakuba.wire.card_auth import card_auth_digest, verify_card_authentication
from yakuba.wire.digest import request_digest

PIN = "4321"  # the card fixture's PIN (tests/pki/conftest.py)


def _now() -> dt.datetime:
    """Read when the test runs: the card fixture issues its certificate then, long after collection."""
    return dt.datetime.now(dt.UTC)


def _sign(dep: Deployment, card: CardInfo, *, challenge: bytes, digest: bytes, kiosk: str) -> tuple[bytes, bytes]:
    with VirtualCardReader.open(dep, path=card.path) as reader:
        reader.select_jpki_ap()
        der = reader.read_auth_certificate()
        reader.verify_pin(PIN)
        return der, reader.sign_digest(card_auth_digest(challenge=challenge, request_digest=digest, kiosk_id=kiosk))


def test_a_card_signature_over_challenge_request_and_kiosk_verifies(deployment: Deployment, card: CardInfo) -> None:
    digest = request_digest({"kind": "juminhyo", "copies": 1})
    der, sig = _sign(deployment, card, challenge=b"c" * 32, digest=digest, kiosk="midori-tanashi-1")
    cert = verify_card_authentication(
        trust=CardTrust.from_deployment(deployment),
        certificate_der=der,
        signature=sig,
        challenge=b"c" * 32,
        request_digest=digest,
        kiosk_id="midori-tanashi-1",
        now=_now(),
    )
    assert f"{cert.serial_number:016X}" == card.serial.upper()


@pytest.mark.parametrize("changed", ["challenge", "request", "kiosk"])
def test_signature_does_not_transfer_to_another_challenge_request_or_kiosk(
    deployment: Deployment, card: CardInfo, changed: str
) -> None:
    digest = request_digest({"kind": "juminhyo", "copies": 1})
    der, sig = _sign(deployment, card, challenge=b"c" * 32, digest=digest, kiosk="midori-tanashi-1")
    args = {"challenge": b"c" * 32, "request_digest": digest, "kiosk_id": "midori-tanashi-1"}
    if changed == "challenge":
        args["challenge"] = b"d" * 32
    elif changed == "request":
        args["request_digest"] = request_digest({"kind": "juminhyo", "copies": 2})
    else:
        args["kiosk_id"] = "aozora-kodaira-1"
    with pytest.raises(VerificationError, match="signature does not verify"):
        verify_card_authentication(
            trust=CardTrust.from_deployment(deployment),
            certificate_der=der,
            signature=sig,
            now=_now(),
            **args,  # type: ignore[arg-type]
        )


def test_revoked_card_is_refused(fresh_deployment: Deployment) -> None:
    from yakuba.pki.card import enrol_card

    dep = fresh_deployment
    info = enrol_card(dep, city_code=dep.cities[0].code, pin=PIN, path=dep.state_dir / "x.card")
    digest = request_digest({"kind": "inkan"})
    der, _sig = _sign(dep, info, challenge=b"c" * 32, digest=digest, kiosk="k")
    trust = CardTrust.from_deployment(dep)
    trust.verify_certificate(der, now=_now())
    revoke_card(dep, info.serial, "affiliationChanged")
    newer = trust.with_crl(load_crl(dep))
    with pytest.raises(VerificationError, match="revoked"):
        newer.verify_certificate(der, now=_now())


def test_expired_card_is_refused(deployment: Deployment, card: CardInfo) -> None:
    with VirtualCardReader.open(deployment, path=card.path) as reader:
        reader.select_jpki_ap()
        der = reader.read_auth_certificate()
    trust = CardTrust.from_deployment(deployment)
    later = x509.load_der_x509_certificate(der).not_valid_after_utc + dt.timedelta(seconds=1)
    with pytest.raises(VerificationError, match="expired"):
        trust.verify_certificate(der, now=later)


def _self_made_card(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "0123456789ABCDEF")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(_now() - dt.timedelta(days=1))
        .not_valid_after(_now() + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_self_made_card_is_refused(deployment: Deployment) -> None:
    der = _self_made_card(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(VerificationError, match="not issued by the JPKI"):
        CardTrust.from_deployment(deployment).verify_certificate(der, now=_now())


def test_garbage_certificate_is_refused(deployment: Deployment) -> None:
    with pytest.raises(VerificationError, match="cannot be parsed"):
        CardTrust.from_deployment(deployment).verify_certificate(b"\x30\x03abc", now=_now())


@pytest.mark.parametrize(
    ("challenge", "digest", "kiosk"),
    [(b"", b"x" * 32, "k"), (b"c", b"x" * 31, "k"), (b"c", b"x" * 32, "k" * 64)],
)
def test_malformed_auth_input(challenge: bytes, digest: bytes, kiosk: str) -> None:
    with pytest.raises(ValidationError):
        card_auth_digest(challenge=challenge, request_digest=digest, kiosk_id=kiosk)


def test_auth_digest_is_unambiguous() -> None:
    """Length prefixes: moving a byte from one field to the next changes the digest."""
    digest = b"\x01" * 32
    a = card_auth_digest(challenge=b"ab", request_digest=digest, kiosk_id="c")
    b = card_auth_digest(challenge=b"a", request_digest=digest, kiosk_id="bc")
    assert a != b
