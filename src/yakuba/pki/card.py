"""The virtual My Number card: a JPKI user-authentication key behind a PIN with lockout, as the real chip.

The real card, for a later PC/SC implementation (JPKI user authentication, ISO 7816-4 APDUs):

1. SELECT the JPKI application by AID ``D3 92 F0 00 26 01 00 00 00 01``:
   ``00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01`` -> ``90 00``.
2. Read the user-authentication certificate (no PIN): SELECT EF ``00 0A``
   (``00 A4 02 0C 02 00 0A``), then READ BINARY (``00 B0 <offset> <len>``) until the DER is complete.
3. Tries left without using one: SELECT the auth PIN EF ``00 18`` (``00 A4 02 0C 02 00 18``), then an
   empty VERIFY ``00 20 00 80`` -> ``63 Cx`` where x is the tries left (``69 84`` when locked).
4. VERIFY the 4-digit PIN: ``00 20 00 80 04 <ASCII digits>`` -> ``90 00`` or ``63 Cx``; after three wrong
   PINs in a row the card locks and only the city office can reset it.
5. Sign: SELECT the auth private key EF ``00 17`` (``00 A4 02 0C 02 00 17``), then COMPUTE DIGITAL
   SIGNATURE ``80 2A 00 80 33 <DigestInfo(SHA-256, digest)> 00`` -> the RSA-2048 PKCS#1 v1.5 signature.
   The verified state lasts for the card session.

`VirtualCardReader` implements the same steps over a ``*.card`` file sealed by a virtual chip secret
(see `yakuba.pki._cardfile`); the private key never leaves it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from yakuba.clock import Clock, SystemClock
from yakuba.config import Deployment
from yakuba.errors import (
    AuthenticationError,
    CardError,
    CardLockedError,
    CardTamperedError,
    NotFoundError,
    ValidationError,
    WrongPinError,
)
from yakuba.pki._atomic import exclusive_lock
from yakuba.pki._authority import issue_card_certificate
from yakuba.pki._cardfile import (
    PIN_DIGITS,
    PIN_SALT_BYTES,
    CardBody,
    CardHeader,
    VirtualChip,
    card_transaction,
    check_pin_format,
    create_card_file,
    hash_pin,
)
from yakuba.pki._certs import fingerprint_sha256, pem
from yakuba.pki._counter import (
    PIN_RESET_TOKEN_TTL,
    CityCounter,
    PinResetAuthorization,
    ResetChallenge,
    verify_reset_authorization,
)
from yakuba.pki._keys import generate_rsa_key
from yakuba.pki._layout import KeyLayout

__all__ = [
    "CARD_FILE_SUFFIX",
    "JPKI_AP_AID",
    "PIN_DIGITS",
    "PIN_RESET_TOKEN_TTL",
    "PIN_TRIES",
    "CardInfo",
    "CardReader",
    "CityCounter",
    "PinResetAuthorization",
    "ResetChallenge",
    "VirtualCardReader",
    "card_certificate_fingerprint",
    "check_pin_format",
    "enrol_card",
    "reset_pin_lock",
]

JPKI_AP_AID = bytes.fromhex("D392F000260100000001")
"""AID of the JPKI application on the My Number card."""

PIN_TRIES = 3
"""Three wrong PINs in a row lock the user-authentication key, as on the real card."""

SHA256_DIGEST_BYTES = 32
"""The card signs SHA-256 digests only."""

CARD_FILE_SUFFIX = ".card"
"""Virtual cards are files named *.card."""


class CardReader(Protocol):
    """A reader holding a card, shaped after the JPKI APDU flow (see the module docstring)."""

    def select_jpki_ap(self) -> None:
        """SELECT the JPKI application; every other command needs it."""

    def read_auth_certificate(self) -> bytes:
        """The user-authentication certificate, DER; no PIN needed."""

    def pin_tries_left(self) -> int:
        """Tries left before lockout, without using one (0 when locked)."""

    def verify_pin(self, pin: str) -> None:
        """VERIFY the PIN for this session; raise PinFormatError, WrongPinError or CardLockedError."""

    def sign_digest(self, sha256_digest: bytes) -> bytes:
        """RSA PKCS#1 v1.5 signature over a SHA-256 DigestInfo; needs a PIN verified in this session."""


@dataclass(frozen=True, slots=True)
class CardInfo:
    """A newly enrolled card: nothing personal, only its serial, certificate fingerprint, city and file."""

    serial: str
    fingerprint: str
    city_code: str
    path: Path


def card_certificate_fingerprint(der: bytes) -> str:
    """SHA-256 hex of a card certificate's DER: the value documents and bindings refer to."""
    return fingerprint_sha256(der)


class VirtualCardReader:
    """A card file in a virtual reader: one session with its selected AP and PIN-verified state."""

    __slots__ = ("_chip", "_header", "_layout", "_path", "_selected", "_verified_generation")

    def __init__(self, *, path: Path, layout: KeyLayout, chip: VirtualChip, header: CardHeader) -> None:
        self._path = path
        self._layout = layout
        self._chip = chip
        self._header = header
        self._selected = False
        self._verified_generation: int | None = None

    @classmethod
    def open(cls, dep: Deployment, *, path: Path) -> VirtualCardReader:
        """Insert the card at PATH; its integrity is checked now (CardTamperedError) and on every command."""
        layout = KeyLayout.of(dep.key_dir)
        chip = VirtualChip.from_key_dir(dep.key_dir)
        with card_transaction(path, layout=layout, chip=chip) as card:
            header = card.header
        return cls(path=path, layout=layout, chip=chip, header=header)

    def __repr__(self) -> str:
        return f"VirtualCardReader(serial={self._header.serial})"

    def __enter__(self) -> VirtualCardReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.end_session()

    @property
    def serial(self) -> str:
        return self._header.serial

    @property
    def city_code(self) -> str:
        return self._header.city_code

    @property
    def path(self) -> Path:
        return self._path

    def end_session(self) -> None:
        """Remove the card: the selected AP and any verified PIN are forgotten."""
        self._selected = False
        self._verified_generation = None

    def _require_selected(self) -> None:
        if not self._selected:
            raise CardError("the JPKI application is not selected", ja="JPKIアプリケーションが選択されていません")

    def select_jpki_ap(self) -> None:
        self._verified_generation = None
        self._selected = True

    def read_auth_certificate(self) -> bytes:
        self._require_selected()
        with card_transaction(self._path, layout=self._layout, chip=self._chip) as card:
            cert = x509.load_pem_x509_certificate(card.header.certificate_pem.encode("ascii"))
        return cert.public_bytes(serialization.Encoding.DER)

    def pin_tries_left(self) -> int:
        self._require_selected()
        with card_transaction(self._path, layout=self._layout, chip=self._chip) as card:
            return 0 if card.body.locked else PIN_TRIES - card.body.wrong_pin_count

    def verify_pin(self, pin: str) -> None:
        """Check PIN and remember success for one signature in this session.

        1. Refuse anything but four ASCII digits before touching the card (no try used).
        2. Refuse a locked card.
        3. Count first: persist the wrong-PIN counter incremented (and the lock, if this is the last try)
           BEFORE comparing, so killing the process mid-check never yields a free try.
        4. Compare in constant time.
        5. On success persist the counter reset; on failure the persisted count stands and the caller
           learns the tries left (or that the card is now locked).
        """
        check_pin_format(pin)  # step 1
        self._require_selected()
        self._verified_generation = None
        with card_transaction(self._path, layout=self._layout, chip=self._chip) as card:
            if card.body.locked:  # step 2
                raise CardLockedError()
            wrong = card.body.wrong_pin_count + 1
            card.commit(card.body.next(wrong_pin_count=wrong, locked=wrong >= PIN_TRIES))  # step 3
            candidate = hash_pin(pin, card.body.pin_salt)
            if hmac.compare_digest(candidate, card.body.pin_hash):  # step 4
                card.commit(card.body.next(wrong_pin_count=0, locked=False))  # step 5
                self._verified_generation = card.body.generation
                return
        if wrong >= PIN_TRIES:
            raise CardLockedError()
        raise WrongPinError(PIN_TRIES - wrong)

    def sign_digest(self, sha256_digest: bytes) -> bytes:
        """Sign a SHA-256 digest with the card's key (RSA-2048, PKCS#1 v1.5 over the DigestInfo).

        1. The digest must be 32 bytes and the AP selected.
        2. A PIN must have been verified in this session, and the card must not have changed since
           (threat: another process locking or using the card between our VERIFY and this signature).
        3. The verification is consumed: one signature per VERIFY.
        4. The key is opened inside the card transaction and dropped after use.
        """
        if len(sha256_digest) != SHA256_DIGEST_BYTES:  # step 1
            raise ValidationError("the card signs SHA-256 digests (32 bytes) only", ja="SHA-256 の値のみ署名できます")
        self._require_selected()
        verified, self._verified_generation = self._verified_generation, None  # step 3
        if verified is None:  # step 2
            raise AuthenticationError(
                "the PIN has not been verified in this session", ja="暗証番号が照合されていません"
            )
        with card_transaction(self._path, layout=self._layout, chip=self._chip) as card:
            if card.body.locked:
                raise CardLockedError()
            if card.body.generation != verified:
                raise AuthenticationError(
                    "the card was used elsewhere since the PIN was verified; verify it again",
                    ja="暗証番号の照合後にカードが使用されました。もう一度照合してください",
                )
            key = serialization.load_der_private_key(card.body.private_key_der, password=None)  # step 4
            if not isinstance(key, rsa.RSAPrivateKey):
                raise CardTamperedError()
            return key.sign(sha256_digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))

    def pin_reset_challenge(self) -> ResetChallenge:
        """What a city counter signs to reset this card: its serial, city and current generation."""
        with card_transaction(self._path, layout=self._layout, chip=self._chip) as card:
            return ResetChallenge(
                serial=card.header.serial, city_code=card.header.city_code, generation=card.body.generation
            )


def enrol_card(dep: Deployment, *, city_code: str, pin: str, path: Path, clock: Clock | None = None) -> CardInfo:
    """Make a new card for a resident of CITY_CODE with PIN, written to PATH (which must not exist).

    The card certificate names no person: its subject is C=JP, O=JPKI, CN=<random 64-bit serial>.
    """
    check_pin_format(pin)
    try:
        dep.city(city_code)
    except KeyError as exc:
        raise NotFoundError(
            f"no city {city_code!r} in this deployment", ja=f"市区町村 {city_code!r} はこのデプロイメントにありません"
        ) from exc
    if path.suffix != CARD_FILE_SUFFIX:
        raise ValidationError(f"{path}: a card file name ends in {CARD_FILE_SUFFIX}", ja=f"{path}: 拡張子は .card です")
    if path.exists():
        raise ValidationError(f"{path}: already exists", ja=f"{path}: すでに存在します")
    layout = KeyLayout.of(dep.key_dir)
    chip = VirtualChip.from_key_dir(dep.key_dir)
    now = (clock or SystemClock()).now()
    key = generate_rsa_key()
    with exclusive_lock(layout.lock):
        serial = _new_serial(layout)
        cert = issue_card_certificate(dep, public_key=key.public_key(), serial=serial, now=now)
    salt = secrets.token_bytes(PIN_SALT_BYTES)
    body = CardBody(
        private_key_der=key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        pin_salt=salt,
        pin_hash=hash_pin(pin, salt),
        wrong_pin_count=0,
        locked=False,
        generation=1,
    )
    header = CardHeader(serial=serial, city_code=city_code, certificate_pem=pem(cert).decode("ascii"))
    create_card_file(path, layout=layout, chip=chip, header=header, body=body)
    return CardInfo(
        serial=serial,
        fingerprint=card_certificate_fingerprint(cert.public_bytes(serialization.Encoding.DER)),
        city_code=city_code,
        path=path,
    )


def _new_serial(layout: KeyLayout) -> str:
    while True:
        serial = secrets.token_hex(8).upper()
        if int(serial, 16) != 0 and not layout.issued_card(serial).exists():
            return serial


def reset_pin_lock(
    dep: Deployment, *, card_path: Path, authorization: PinResetAuthorization, clock: Clock | None = None
) -> None:
    """Unlock a card (and set a new PIN if the token carries one) on the city's signed authorization.

    1. Verify the token against the card's public header: counter certificate chains to the LGPKI root
       and belongs to the card's city, the signature holds, serial and city match, not expired
       (`verify_reset_authorization` names the threat each check stops).
    2. Inside the card transaction, the token's generation must be the card's current one: a token is
       good for one reset of the card as it was when the counter saw it (threat: replaying an old token).
    3. Reset the counter and lock, apply the PIN change, move the generation on.
    A tampered card stays unusable: its transaction fails before step 2.
    """
    layout = KeyLayout.of(dep.key_dir)
    chip = VirtualChip.from_key_dir(dep.key_dir)
    now = (clock or SystemClock()).now()
    with card_transaction(card_path, layout=layout, chip=chip) as card:
        grant = verify_reset_authorization(  # step 1
            dep, authorization, serial=card.header.serial, city_code=card.header.city_code, now=now
        )
        if grant.generation != card.body.generation:  # step 2
            raise AuthenticationError(
                "the reset authorization is for an earlier state of this card; ask the counter again",
                ja="この解除許可は現在のカードの状態に対するものではありません",
            )
        changes: dict[str, object] = {"wrong_pin_count": 0, "locked": False}
        if grant.new_pin is not None:
            changes["pin_salt"], changes["pin_hash"] = grant.new_pin
        card.commit(card.body.next(**changes))  # step 3
