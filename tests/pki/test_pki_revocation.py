"""Card revocation: the CRL carries the entry with its reason, for cryptography and for openssl."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from yakuba.config import Deployment
from yakuba.errors import NotFoundError, ValidationError, VerificationError
from yakuba.pki import (
    CRL_VALIDITY,
    CardTrust,
    add_lapsed_serials,
    is_revoked,
    list_certificates,
    load_crl,
    revoke_card,
)
from yakuba.pki.card import CardInfo, VirtualCardReader, enrol_card

OpenSSL = Callable[..., subprocess.CompletedProcess[str]]


def test_a_revoked_card_is_in_the_crl(deployment: Deployment, enrol: Callable[..., CardInfo], openssl: OpenSSL) -> None:
    revoked, kept = enrol(), enrol()
    before = load_crl(deployment)
    assert not is_revoked(before, serial=revoked.serial)
    revoke_card(deployment, revoked.serial.lower(), "keyCompromise")
    crl = load_crl(deployment)
    assert is_revoked(crl, serial=revoked.serial)
    assert not is_revoked(crl, serial=kept.serial)
    entry = crl.get_revoked_certificate_by_serial_number(int(revoked.serial, 16))
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.key_compromise
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number > before.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == CRL_VALIDITY
    # Revoking again keeps the first entry and publishes nothing new.
    again = revoke_card(deployment, revoked.serial, "superseded")
    assert again.public_bytes(Encoding.DER) == crl.public_bytes(Encoding.DER)

    crl_path = deployment.key_dir / "ca" / "jpki-auth.crl"
    text = openssl("crl", "-in", crl_path, "-noout", "-text")
    assert text.returncode == 0, text.stderr
    assert f"Serial Number: {revoked.serial}" in text.stdout
    assert "Key Compromise" in text.stdout
    assert kept.serial not in text.stdout
    signed = openssl("crl", "-in", crl_path, "-noout", "-CAfile", deployment.key_dir / "ca" / "jpki-auth.crt")
    assert "verify OK" in signed.stdout + signed.stderr
    listed = {i.name: i.revoked for i in list_certificates(deployment) if i.kind == "card"}
    assert listed[revoked.serial] is True
    assert listed[kept.serial] is False


def test_revocation_refuses_unknown_cards_and_reasons(deployment: Deployment, card: CardInfo) -> None:
    before = (deployment.key_dir / "ca" / "jpki-auth.crl").read_bytes()
    with pytest.raises(NotFoundError, match="no card with serial"):
        revoke_card(deployment, "0123456789ABCDEF", "keyCompromise")
    with pytest.raises(ValidationError, match="16 hexadecimal digits"):
        revoke_card(deployment, "12345", "keyCompromise")
    with pytest.raises(ValidationError, match="unknown card revocation reason"):
        revoke_card(deployment, card.serial, "bored")
    with pytest.raises(ValidationError, match="unknown card revocation reason"):  # a CA reason, not a card's
        revoke_card(deployment, card.serial, "cACompromise")
    assert (deployment.key_dir / "ca" / "jpki-auth.crl").read_bytes() == before


def test_lapsed_serials_fill_the_crl_without_touching_the_deployments_cards(
    fresh_deployment: Deployment, tmp_path: Path, openssl: OpenSSL
) -> None:
    dep = fresh_deployment
    revoked = enrol_card(dep, city_code="132292", pin="4321", path=tmp_path / "revoked.card")
    kept = enrol_card(dep, city_code="132292", pin="4321", path=tmp_path / "kept.card")
    revoke_card(dep, revoked.serial, "keyCompromise")
    before = load_crl(dep)
    assert add_lapsed_serials(dep, 5000, seed=7) == 5001
    crl = load_crl(dep)  # load_crl checks the signature with the user-authentication CA
    serials = {entry.serial_number for entry in crl}
    assert len(serials) == 5001
    assert is_revoked(crl, serial=revoked.serial)  # the real revocation is carried over, reason and all
    entry = crl.get_revoked_certificate_by_serial_number(int(revoked.serial, 16))
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.key_compromise
    assert not is_revoked(crl, serial=kept.serial)
    assert all(0 < serial < 2**64 for serial in serials)
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number == before.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
    # A verifier finds the card that is listed and passes the one that is not, at any list size.
    trust = CardTrust.from_deployment(dep)
    assert len(trust.revoked) == 5001
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(VerificationError, match="revoked"):
        trust.verify_certificate(_certificate(dep, revoked), now=now)
    assert trust.verify_certificate(_certificate(dep, kept), now=now).serial_number == int(kept.serial, 16)
    crl_path = dep.key_dir / "ca" / "jpki-auth.crl"
    signed = openssl("crl", "-in", crl_path, "-noout", "-CAfile", dep.key_dir / "ca" / "jpki-auth.crt")
    assert "verify OK" in signed.stdout + signed.stderr
    with pytest.raises(ValidationError):
        add_lapsed_serials(dep, -1)
    assert add_lapsed_serials(dep, 0) == 5001


def _certificate(dep: Deployment, card: CardInfo) -> bytes:
    with VirtualCardReader.open(dep, path=card.path) as reader:
        reader.select_jpki_ap()
        return reader.read_auth_certificate()
