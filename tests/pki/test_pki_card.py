"""The virtual My Number card: PIN lockout, session rules, tamper evidence, city reset, signatures."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from yakuba.config import Deployment
from yakuba.errors import (
    AuthenticationError,
    AuthorizationError,
    CardError,
    CardLockedError,
    CardTamperedError,
    PinFormatError,
    ValidationError,
    VerificationError,
    WrongPinError,
)
from yakuba.pki.card import (
    JPKI_AP_AID,
    PIN_TRIES,
    CardInfo,
    CityCounter,
    PinResetAuthorization,
    VirtualCardReader,
    card_certificate_fingerprint,
    reset_pin_lock,
)

PIN = "4321"
KODAIRA = "132110"
OpenSSL = Callable[..., subprocess.CompletedProcess[str]]


def _open(dep: Deployment, card: CardInfo) -> VirtualCardReader:
    reader = VirtualCardReader.open(dep, path=card.path)
    reader.select_jpki_ap()
    return reader


def _wrong(reader: VirtualCardReader, pin: str = "0000") -> CardError:
    with pytest.raises(CardError) as caught:
        reader.verify_pin(pin)
    return caught.value


# --- PIN and lockout -------------------------------------------------------------------------------


def test_three_wrong_pins_in_a_row_lock_the_card(reader: VirtualCardReader) -> None:
    assert PIN_TRIES == 3
    assert reader.pin_tries_left() == 3
    first, second = _wrong(reader), _wrong(reader)
    assert isinstance(first, WrongPinError)
    assert first.tries_left == 2
    assert isinstance(second, WrongPinError)
    assert second.tries_left == 1
    assert reader.pin_tries_left() == 1
    assert isinstance(_wrong(reader), CardLockedError)
    assert reader.pin_tries_left() == 0
    # Locked means locked: even the right PIN is refused and uses nothing.
    with pytest.raises(CardLockedError):
        reader.verify_pin(PIN)


def test_a_correct_pin_resets_the_count(reader: VirtualCardReader) -> None:
    _wrong(reader)
    _wrong(reader)
    reader.verify_pin(PIN)
    assert reader.pin_tries_left() == 3
    assert isinstance(_wrong(reader), WrongPinError)
    assert reader.pin_tries_left() == 2


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "", " 123", "１２３４", "4321\n"])
def test_a_malformed_pin_uses_no_try(reader: VirtualCardReader, pin: str) -> None:
    with pytest.raises(PinFormatError):
        reader.verify_pin(pin)
    assert reader.pin_tries_left() == 3


def test_tries_left_needs_no_pin_and_a_new_reader_sees_the_count(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader
) -> None:
    _wrong(reader)
    assert _open(deployment, card).pin_tries_left() == 2


def test_the_wrong_pin_count_persists_across_processes(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader
) -> None:
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from yakuba.config import load_deployment
        from yakuba.errors import WrongPinError
        from yakuba.pki.card import VirtualCardReader
        dep = load_deployment(Path(sys.argv[1]))
        reader = VirtualCardReader.open(dep, path=Path(sys.argv[2]))
        reader.select_jpki_ap()
        try:
            reader.verify_pin("9999")
        except WrongPinError as exc:
            print(exc.tries_left)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(deployment.root), str(card.path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"
    assert reader.pin_tries_left() == 2
    assert isinstance(_wrong(reader), WrongPinError)
    assert reader.pin_tries_left() == 1


def test_a_failed_attempt_is_counted_before_the_pin_is_compared(
    reader: VirtualCardReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed while comparing (here: the comparison blows up) has already used its try."""

    def crash(pin: str, salt: bytes) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr("yakuba.pki.card.hash_pin", crash)
    with pytest.raises(KeyboardInterrupt):
        reader.verify_pin(PIN)
    monkeypatch.undo()
    assert reader.pin_tries_left() == 2
    reader.verify_pin(PIN)
    assert reader.pin_tries_left() == 3


# --- Session rules and signatures -----------------------------------------------------------------


def test_commands_need_the_jpki_application_selected(deployment: Deployment, card: CardInfo) -> None:
    assert JPKI_AP_AID.hex().upper() == "D392F000260100000001"
    fresh = VirtualCardReader.open(deployment, path=card.path)
    for command in (fresh.read_auth_certificate, fresh.pin_tries_left, lambda: fresh.verify_pin(PIN)):
        with pytest.raises(CardError, match="not selected"):
            command()
    fresh.select_jpki_ap()
    assert fresh.pin_tries_left() == 3  # the refused VERIFY used no try


def test_signing_needs_a_pin_verified_in_this_session_once_per_signature(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader
) -> None:
    digest = hashlib.sha256(b"challenge").digest()
    with pytest.raises(AuthenticationError, match="not been verified"):
        reader.sign_digest(digest)
    reader.verify_pin(PIN)
    reader.sign_digest(digest)
    with pytest.raises(AuthenticationError, match="not been verified"):
        reader.sign_digest(digest)
    # Verification belongs to one session: another reader of the same card has none...
    other = _open(deployment, card)
    with pytest.raises(AuthenticationError):
        other.sign_digest(digest)
    # ...and ending the session (re-selecting the AP) forgets it.
    reader.verify_pin(PIN)
    reader.select_jpki_ap()
    with pytest.raises(AuthenticationError):
        reader.sign_digest(digest)
    with pytest.raises(ValidationError, match="32 bytes"):
        reader.sign_digest(b"short")


def test_a_pin_verified_before_another_process_used_the_card_is_void(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader
) -> None:
    reader.verify_pin(PIN)
    _wrong(_open(deployment, card))
    with pytest.raises(AuthenticationError, match="used elsewhere"):
        reader.sign_digest(hashlib.sha256(b"x").digest())


def test_a_locked_card_signs_nothing(deployment: Deployment, card: CardInfo, reader: VirtualCardReader) -> None:
    reader.verify_pin(PIN)
    thief = _open(deployment, card)
    for _ in range(PIN_TRIES):
        _wrong(thief)
    with pytest.raises(CardLockedError):
        reader.sign_digest(hashlib.sha256(b"x").digest())
    with pytest.raises(CardLockedError):
        reader.verify_pin(PIN)
    with pytest.raises(AuthenticationError):
        reader.sign_digest(hashlib.sha256(b"x").digest())


def test_signatures_verify_with_cryptography_and_openssl(
    reader: VirtualCardReader, card: CardInfo, tmp_path: Path, openssl: OpenSSL
) -> None:
    message = "challenge ‖ digest ‖ midori-tanashi-1".encode()
    reader.verify_pin(PIN)
    signature = reader.sign_digest(hashlib.sha256(message).digest())
    der = reader.read_auth_certificate()
    cert = x509.load_der_x509_certificate(der)
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == 2048
    public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    assert card_certificate_fingerprint(der) == card.fingerprint == hashlib.sha256(der).hexdigest()

    (tmp_path / "msg.bin").write_bytes(message)
    (tmp_path / "sig.bin").write_bytes(signature)
    (tmp_path / "pub.pem").write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    ok = openssl(
        "dgst", "-sha256", "-verify", tmp_path / "pub.pem", "-signature", tmp_path / "sig.bin", tmp_path / "msg.bin"
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Verified OK" in ok.stdout
    (tmp_path / "msg.bin").write_bytes(message + b"!")
    bad = openssl(
        "dgst", "-sha256", "-verify", tmp_path / "pub.pem", "-signature", tmp_path / "sig.bin", tmp_path / "msg.bin"
    )
    assert bad.returncode != 0
    assert "Verification failure" in bad.stdout + bad.stderr


def test_card_certificate_chain_verifies_with_openssl(
    deployment: Deployment, reader: VirtualCardReader, tmp_path: Path, openssl: OpenSSL
) -> None:
    cert = x509.load_der_x509_certificate(reader.read_auth_certificate())
    leaf = tmp_path / "card.pem"
    leaf.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    ca = deployment.key_dir / "ca"
    ok = openssl("verify", "-CAfile", ca / "jpki-root.crt", "-untrusted", ca / "jpki-auth.crt", leaf)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    without_intermediate = openssl("verify", "-CAfile", ca / "jpki-root.crt", leaf)
    assert without_intermediate.returncode != 0
    other_root = openssl("verify", "-CAfile", ca / "lgpki-root.crt", "-untrusted", ca / "jpki-auth.crt", leaf)
    assert other_root.returncode != 0


def test_the_card_certificate_names_no_person(reader: VirtualCardReader, card: CardInfo) -> None:
    cert = x509.load_der_x509_certificate(reader.read_auth_certificate())
    allowed = {NameOID.COUNTRY_NAME, NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME}
    assert {attr.oid for attr in cert.subject} <= allowed
    assert cert.subject.rfc4514_string() == f"CN={card.serial},O=JPKI,C=JP"
    assert cert.serial_number == int(card.serial, 16)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature


def test_the_private_key_never_leaves_the_card(reader: VirtualCardReader, card: CardInfo) -> None:
    assert repr(reader) == f"VirtualCardReader(serial={card.serial})"
    reader.verify_pin(PIN)
    reader.sign_digest(hashlib.sha256(b"x").digest())
    for name in dir(reader):
        value = getattr(reader, name, None)
        assert not isinstance(value, rsa.RSAPrivateKey), name
        assert not (isinstance(value, bytes) and b"PRIVATE" in value), name
    assert not any(word in name.lower() for name in dir(reader) for word in ("export", "private_key"))
    text = card.path.read_text(encoding="ascii")
    assert "PRIVATE KEY" not in text  # the key is only inside the sealed body
    assert "CERTIFICATE" in text


# --- Tamper evidence -------------------------------------------------------------------------------


def _flip(path: Path, line: int, offset: int) -> None:
    lines = path.read_bytes().split(b"\n")
    target = bytearray(lines[line])
    target[offset] ^= 0x01
    lines[line] = bytes(target)
    path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize(
    ("line", "offset"),
    [(1, 20), (1, -5), (2, 10), (2, -3), (0, 3)],
    ids=["header-certificate", "header-end", "body", "body-end", "magic"],
)
def test_an_edited_card_is_unusable_not_unlocked(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader, line: int, offset: int
) -> None:
    _wrong(reader)
    _flip(card.path, line, offset)
    with pytest.raises(CardTamperedError):
        VirtualCardReader.open(deployment, path=card.path)
    for command in (reader.pin_tries_left, lambda: reader.verify_pin(PIN), reader.read_auth_certificate):
        with pytest.raises(CardTamperedError):
            command()


def test_restoring_an_older_copy_is_detected_and_voids_the_card(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader
) -> None:
    _wrong(reader)
    backup = card.path.read_bytes()  # one wrong try on it
    _wrong(reader)
    current = card.path.read_bytes()
    card.path.write_bytes(backup)  # try to win a try back
    with pytest.raises(CardTamperedError):
        reader.verify_pin(PIN)
    # Putting the right file back does not revive it: the rollback voided the card for good.
    card.path.write_bytes(current)
    with pytest.raises(CardTamperedError):
        VirtualCardReader.open(deployment, path=card.path)
    counter = CityCounter.from_deployment(deployment, card.city_code)
    with pytest.raises(CardTamperedError):
        counter.authorize_pin_reset(reader)


def test_a_copy_of_the_card_is_worthless_once_the_card_was_used(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader, tmp_path: Path
) -> None:
    twin = tmp_path / "twin.card"
    twin.write_bytes(card.path.read_bytes())
    _wrong(reader)
    with pytest.raises(CardTamperedError):
        _open(deployment, CardInfo(serial=card.serial, fingerprint="", city_code=card.city_code, path=twin))


def test_a_crash_between_card_write_and_state_record_is_recovered_without_a_free_try(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader
) -> None:
    record = deployment.key_dir / "card-state" / card.serial
    old_record = record.read_bytes()
    _wrong(reader)  # two writes: card file, then record
    record.write_bytes(old_record)  # as if the process died between them
    assert reader.pin_tries_left() == 2
    reader.verify_pin(PIN)
    assert reader.pin_tries_left() == 3


def test_a_card_from_another_deployment_is_refused(fresh_deployment: Deployment, card: CardInfo) -> None:
    with pytest.raises(CardTamperedError):
        VirtualCardReader.open(fresh_deployment, path=card.path)


# --- City counter reset ----------------------------------------------------------------------------


def _lock(reader: VirtualCardReader) -> None:
    for _ in range(PIN_TRIES):
        _wrong(reader)
    assert reader.pin_tries_left() == 0


def test_the_city_counter_unlocks_a_locked_card(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader
) -> None:
    _lock(reader)
    counter = CityCounter.from_deployment(deployment, card.city_code)
    token = counter.authorize_pin_reset(reader)
    reset_pin_lock(deployment, card_path=card.path, authorization=PinResetAuthorization.from_text(token.to_text()))
    assert reader.pin_tries_left() == 3
    reader.verify_pin(PIN)
    reader.sign_digest(hashlib.sha256(b"x").digest())
    # The token was for the card as it was: using it again is refused.
    with pytest.raises(AuthenticationError, match="earlier state"):
        reset_pin_lock(deployment, card_path=card.path, authorization=token)


def test_the_counter_can_set_a_new_pin(deployment: Deployment, card: CardInfo, reader: VirtualCardReader) -> None:
    _lock(reader)
    counter = CityCounter.from_deployment(deployment, card.city_code)
    with pytest.raises(PinFormatError):
        counter.authorize_pin_reset(reader, new_pin="12")
    reset_pin_lock(deployment, card_path=card.path, authorization=counter.authorize_pin_reset(reader, new_pin="8642"))
    assert isinstance(_wrong(reader, PIN), WrongPinError)
    reader.verify_pin("8642")


def test_another_citys_counter_cannot_reset_the_card(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader, enrol: Callable[..., CardInfo]
) -> None:
    _lock(reader)
    kodaira = CityCounter.from_deployment(deployment, KODAIRA)
    with pytest.raises(AuthorizationError):
        kodaira.authorize_pin_reset(reader)
    # A token Kodaira signs for the card in front of it anyway is refused by the card's side.
    forced = kodaira._sign(reader.pin_reset_challenge(), new_pin=None)
    with pytest.raises(AuthorizationError, match="another city"):
        reset_pin_lock(deployment, card_path=card.path, authorization=forced)
    # And a genuine Kodaira token for a Kodaira card does not fit this card.
    kodaira_card = enrol(city_code=KODAIRA)
    kodaira_token = kodaira.authorize_pin_reset(_open(deployment, kodaira_card))
    with pytest.raises(AuthorizationError):
        reset_pin_lock(deployment, card_path=card.path, authorization=kodaira_token)
    assert reader.pin_tries_left() == 0


def test_a_forged_or_edited_token_is_refused(deployment: Deployment, card: CardInfo, reader: VirtualCardReader) -> None:
    _lock(reader)
    genuine = CityCounter.from_deployment(deployment, card.city_code).authorize_pin_reset(reader)
    edited = PinResetAuthorization(
        payload=genuine.payload.replace(b'"pin":"keep"', b'"pin":"kept"'),
        signature=genuine.signature,
        counter_certificate=genuine.counter_certificate,
    )
    with pytest.raises(VerificationError, match="signature"):
        reset_pin_lock(deployment, card_path=card.path, authorization=edited)

    # A self-made certificate with the counter's very subject, signing the genuine payload.
    real = x509.load_der_x509_certificate(genuine.counter_certificate)
    key = ec.generate_private_key(ec.SECP256R1())
    fake = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    forged = PinResetAuthorization(
        payload=genuine.payload,
        signature=key.sign(genuine.payload, ec.ECDSA(hashes.SHA256())),
        counter_certificate=fake.public_bytes(serialization.Encoding.DER),
    )
    with pytest.raises(VerificationError, match="not from the government organisation root"):
        reset_pin_lock(deployment, card_path=card.path, authorization=forged)

    # The city's document-signing key chains to the same root but is not a counter.
    from yakuba.pki._keys import load_private_key

    signing_dir = deployment.key_dir / "cities" / card.city_code
    signing_key = load_private_key(signing_dir / "document-signing.key", key_dir=deployment.key_dir)
    assert isinstance(signing_key, ec.EllipticCurvePrivateKey)
    misused = PinResetAuthorization(
        payload=genuine.payload,
        signature=signing_key.sign(genuine.payload, ec.ECDSA(hashes.SHA256())),
        counter_certificate=x509.load_pem_x509_certificate(
            (signing_dir / "document-signing.crt").read_bytes()
        ).public_bytes(serialization.Encoding.DER),
    )
    with pytest.raises(VerificationError, match="not a city counter certificate"):
        reset_pin_lock(deployment, card_path=card.path, authorization=misused)
    assert reader.pin_tries_left() == 0
    reset_pin_lock(deployment, card_path=card.path, authorization=genuine)
    assert reader.pin_tries_left() == 3


def test_an_expired_token_is_refused(deployment: Deployment, card: CardInfo, reader: VirtualCardReader) -> None:
    import datetime as dt

    from yakuba.clock import FixedClock

    clock = FixedClock(dt.datetime.now(dt.UTC))
    _lock(reader)
    token = CityCounter.from_deployment(deployment, card.city_code, clock=clock).authorize_pin_reset(reader)
    clock.advance(dt.timedelta(minutes=11))
    with pytest.raises(VerificationError, match="expired"):
        reset_pin_lock(deployment, card_path=card.path, authorization=token, clock=clock)
    assert reader.pin_tries_left() == 0


def test_a_tampered_card_is_not_revived_by_a_reset(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader
) -> None:
    _lock(reader)
    token = CityCounter.from_deployment(deployment, card.city_code).authorize_pin_reset(reader)
    _flip(card.path, 2, 5)
    with pytest.raises(CardTamperedError):
        reset_pin_lock(deployment, card_path=card.path, authorization=token)


def test_processes_using_one_card_at_once_take_turns(
    deployment: Deployment, card: CardInfo, reader: VirtualCardReader
) -> None:
    """Three processes enter a wrong PIN at the same moment: each try is counted, none is lost or doubled."""
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from yakuba.config import load_deployment
        from yakuba.errors import CardError
        from yakuba.pki.card import VirtualCardReader
        dep = load_deployment(Path(sys.argv[1]))
        reader = VirtualCardReader.open(dep, path=Path(sys.argv[2]))
        reader.select_jpki_ap()
        time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
        try:
            reader.verify_pin("9999")
        except CardError as exc:
            print(exc.code)
        """
    )
    import time

    start = f"{time.time() + 1.0:.3f}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(deployment.root), str(card.path), start],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PIN_TRIES)
    ]
    outcomes = sorted(proc.communicate(timeout=60)[0].strip() for proc in procs)
    assert outcomes == ["card_locked", "wrong_pin", "wrong_pin"]
    assert reader.pin_tries_left() == 0
