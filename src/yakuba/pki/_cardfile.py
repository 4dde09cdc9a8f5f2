"""The virtual card's file: a public header and a body sealed by the virtual chip, with rollback protection.

File format (UTF-8 text, three lines):
  1. ``YAKUBA-VIRTUAL-CARD <format version>``
  2. the header, canonical JSON: format version, card serial, issuing city code, certificate PEM
  3. base64 of ``nonce || AES-256-GCM(body JSON)``, with line 2's exact bytes as associated data

The AES key is derived (HKDF-SHA256) from the virtual chip secret ``<key_dir>/card-chip.key`` and the
serial; the chip secret stands for the chip's tamper-resistant hardware and never enters the card file.
``<key_dir>/card-state/<serial>`` records the card's latest generation under an HMAC with the chip secret.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from yakuba.errors import CardTamperedError, NotFoundError, PinFormatError
from yakuba.pki._atomic import exclusive_lock, write_atomic
from yakuba.pki._certs import check_card_serial
from yakuba.pki._keys import PRIVATE_FILE_MODE, load_secret
from yakuba.pki._layout import KeyLayout

__all__ = [
    "CARD_FORMAT_VERSION",
    "PIN_DIGITS",
    "PIN_SALT_BYTES",
    "CardBody",
    "CardHeader",
    "CardTransaction",
    "VirtualChip",
    "card_transaction",
    "check_pin_format",
    "create_card_file",
    "hash_pin",
]

CARD_FORMAT_VERSION = 1
"""Version of the card file layout; a reader refuses versions it does not know."""

CARD_MAGIC = "YAKUBA-VIRTUAL-CARD"
"""First word of every card file."""

GCM_NONCE_BYTES = 12
"""AES-GCM's standard 96-bit nonce, random per write (a card is written a few thousand times at most)."""

SCRYPT_N = 2**14
"""scrypt cost for PIN hashes: ~50 ms and 16 MiB, so a stolen body costs real work per guess."""

SCRYPT_R = 8
SCRYPT_P = 1
PIN_HASH_BYTES = 32
PIN_SALT_BYTES = 16
"""A fresh 128-bit salt per PIN, so equal PINs on two cards hash differently."""

_BODY_INFO = b"yakuba virtual card body v1|"
_STATE_INFO = b"yakuba virtual card state record v1"


def _tampered(detail: str) -> CardTamperedError:
    return CardTamperedError(
        f"the card failed its integrity check ({detail}); it cannot be used",
        ja="カードの完全性検証に失敗したため使用できません。市区町村の窓口にお問い合わせください。",
    )


PIN_DIGITS = 4
"""The user-authentication PIN is exactly four digits."""


def check_pin_format(pin: str) -> None:
    """Raise PinFormatError unless PIN is exactly four ASCII digits (no try is used for a format error)."""
    if len(pin) != PIN_DIGITS or not all("0" <= c <= "9" for c in pin):
        raise PinFormatError()


def hash_pin(pin: str, salt: bytes) -> bytes:
    """scrypt of a (format-checked) PIN."""
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=PIN_HASH_BYTES)


@dataclass(frozen=True, slots=True)
class CardHeader:
    """The public part of a card: readable without PIN, authenticated as the body's associated data."""

    serial: str
    city_code: str
    certificate_pem: str
    version: int = CARD_FORMAT_VERSION

    def to_bytes(self) -> bytes:
        doc = {
            "certificate": self.certificate_pem,
            "city": self.city_code,
            "serial": self.serial,
            "version": self.version,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")

    @classmethod
    def parse(cls, raw: bytes) -> CardHeader:
        try:
            doc = json.loads(raw.decode("ascii"))
            header = cls(
                serial=check_card_serial(str(doc["serial"])),
                city_code=str(doc["city"]),
                certificate_pem=str(doc["certificate"]),
                version=int(doc["version"]),
            )
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise _tampered("unreadable header") from exc
        if header.version != CARD_FORMAT_VERSION or header.to_bytes() != raw:
            raise _tampered("non-canonical header")
        return header


@dataclass(frozen=True, slots=True)
class CardBody:
    """The sealed part of a card: never written anywhere in clear, never returned outside the card."""

    private_key_der: bytes = field(repr=False)
    pin_salt: bytes = field(repr=False)
    pin_hash: bytes = field(repr=False)
    wrong_pin_count: int
    locked: bool
    generation: int

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "generation": self.generation,
            "key": base64.b64encode(self.private_key_der).decode("ascii"),
            "locked": self.locked,
            "pin_hash": base64.b64encode(self.pin_hash).decode("ascii"),
            "pin_salt": base64.b64encode(self.pin_salt).decode("ascii"),
            "wrong": self.wrong_pin_count,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("ascii")

    @classmethod
    def parse(cls, raw: bytes) -> CardBody:
        try:
            doc = json.loads(raw)
            return cls(
                private_key_der=base64.b64decode(doc["key"], validate=True),
                pin_salt=base64.b64decode(doc["pin_salt"], validate=True),
                pin_hash=base64.b64decode(doc["pin_hash"], validate=True),
                wrong_pin_count=int(doc["wrong"]),
                locked=bool(doc["locked"]),
                generation=int(doc["generation"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise _tampered("unreadable body") from exc

    def next(self, **changes: Any) -> CardBody:
        """This body with CHANGES and the generation moved on by one (every state change bumps it)."""
        return replace(self, generation=self.generation + 1, **changes)


class VirtualChip:
    """The chip's tamper-resistant secret: seals card bodies and authenticates card state records."""

    __slots__ = ("_secret",)

    def __init__(self, *, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def from_key_dir(cls, key_dir: Path) -> VirtualChip:
        return cls(secret=load_secret(KeyLayout.of(key_dir).chip_secret, key_dir=key_dir))

    def __repr__(self) -> str:
        return "VirtualChip()"

    def _derive(self, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self._secret)

    def seal(self, header: bytes, body: CardBody, *, serial: str) -> bytes:
        nonce = secrets.token_bytes(GCM_NONCE_BYTES)
        aead = AESGCM(self._derive(_BODY_INFO + serial.encode("ascii")))
        return nonce + aead.encrypt(nonce, body.to_bytes(), header)

    def unseal(self, header: bytes, sealed: bytes, *, serial: str) -> CardBody:
        nonce, ciphertext = sealed[:GCM_NONCE_BYTES], sealed[GCM_NONCE_BYTES:]
        aead = AESGCM(self._derive(_BODY_INFO + serial.encode("ascii")))
        try:
            return CardBody.parse(aead.decrypt(nonce, ciphertext, header))
        except (InvalidTag, ValueError) as exc:
            raise _tampered("sealed body does not open") from exc

    def state_mac(self, *, serial: str, generation: int, void: bool) -> str:
        message = f"{serial}|{generation}|{int(void)}".encode("ascii")
        return hmac.new(self._derive(_STATE_INFO), message, hashlib.sha256).hexdigest()


def _render(header: CardHeader, sealed: bytes) -> bytes:
    return b"\n".join(
        (f"{CARD_MAGIC} {CARD_FORMAT_VERSION}".encode("ascii"), header.to_bytes(), base64.b64encode(sealed), b"")
    )


def _split(raw: bytes) -> tuple[bytes, bytes]:
    lines = raw.split(b"\n")
    if len(lines) != 4 or lines[3] != b"" or lines[0] != f"{CARD_MAGIC} {CARD_FORMAT_VERSION}".encode("ascii"):
        raise _tampered("not a card file of a known format")
    try:
        sealed = base64.b64decode(lines[2], validate=True)
    except binascii.Error as exc:
        raise _tampered("unreadable body") from exc
    return lines[1], sealed


@dataclass(frozen=True, slots=True)
class _StateRecord:
    generation: int
    void: bool


def _read_state(layout: KeyLayout, chip: VirtualChip, serial: str) -> _StateRecord:
    try:
        doc = json.loads(layout.card_state(serial).read_bytes())
        record = _StateRecord(generation=int(doc["generation"]), void=bool(doc["void"]))
        mac = str(doc["mac"])
    except FileNotFoundError as exc:
        raise _tampered("no state record for this card in this deployment") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise _tampered("unreadable state record") from exc
    expected = chip.state_mac(serial=serial, generation=record.generation, void=record.void)
    if not hmac.compare_digest(mac, expected):
        raise _tampered("state record fails its check")
    return record


def _write_state(layout: KeyLayout, chip: VirtualChip, serial: str, record: _StateRecord) -> None:
    doc = {
        "generation": record.generation,
        "mac": chip.state_mac(serial=serial, generation=record.generation, void=record.void),
        "serial": serial,
        "void": record.void,
    }
    write_atomic(layout.card_state(serial), json.dumps(doc, sort_keys=True).encode("ascii"), mode=PRIVATE_FILE_MODE)


@contextlib.contextmanager
def _locked_card_file(path: Path) -> Iterator[bytes]:
    """Hold an exclusive flock on the card file itself and yield its bytes.

    The file is replaced by rename on every write, so after getting the lock we check the path still
    names the inode we locked; if another process replaced it meanwhile, lock the new one instead.
    """
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError as exc:
            raise NotFoundError(f"{path}: no such card file", ja=f"{path}: カードファイルがありません") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                current = None
            locked = os.fstat(fd)
            if current is None or (current.st_ino, current.st_dev) != (locked.st_ino, locked.st_dev):
                continue  # replaced while we waited; the finally clause closes and unlocks
            with os.fdopen(os.dup(fd), "rb") as handle:
                raw = handle.read()
            yield raw
            return
        finally:
            os.close(fd)


class CardTransaction:
    """One locked read-check-(write) of a card: the state is current when it is handed out."""

    __slots__ = ("_chip", "_layout", "_path", "body", "header")

    def __init__(self, *, path: Path, layout: KeyLayout, chip: VirtualChip, header: CardHeader, body: CardBody) -> None:
        self._path = path
        self._layout = layout
        self._chip = chip
        self.header = header
        self.body = body

    def commit(self, body: CardBody) -> None:
        """Persist BODY (one generation on): the card file first, then its state record.

        The order makes a crash between the two leave the card one generation ahead of its record, which
        the next open accepts and repairs; it can never leave a state with fewer wrong tries on record.
        """
        if body.generation != self.body.generation + 1:
            raise ValueError("a card state change moves the generation on by exactly one")
        sealed = self._chip.seal(self.header.to_bytes(), body, serial=self.header.serial)
        write_atomic(self._path, _render(self.header, sealed), mode=PRIVATE_FILE_MODE)
        _write_state(self._layout, self._chip, self.header.serial, _StateRecord(body.generation, void=False))
        self.body = body


@contextlib.contextmanager
def card_transaction(path: Path, *, layout: KeyLayout, chip: VirtualChip) -> Iterator[CardTransaction]:
    """Lock, read and check a card; yield it for reading and at most one commit per change.

    1. flock the card file (two processes using one card take turns), then parse the header.
    2. Lock the card's serial in the key folder too, so two *copies* of one card cannot be used in
       parallel to get extra tries (each would otherwise count one wrong PIN on its own branch).
    3. Open the body with the chip secret and the header as associated data: an edited header or body
       fails here (threat: editing the counter, swapping the certificate or the key).
    4. Compare the body's generation with the HMAC'd state record: an older copy of the file is refused
       and the card is voided for good (threat: restoring a backup to reset the wrong-PIN counter). A card
       exactly one generation ahead is a crash between the two writes of a commit; its record is repaired.
    """
    with _locked_card_file(path) as raw:  # step 1
        header_bytes, sealed = _split(raw)
        header = CardHeader.parse(header_bytes)
        with exclusive_lock(layout.card_state_dir / f".{header.serial}.lock"):  # step 2
            record = _read_state(layout, chip, header.serial)
            if record.void:
                raise _tampered("the card was voided after an earlier integrity failure")
            body = chip.unseal(header_bytes, sealed, serial=header.serial)  # step 3
            if body.generation == record.generation + 1:  # step 4
                _write_state(layout, chip, header.serial, _StateRecord(body.generation, void=False))
            elif body.generation != record.generation:
                # The header opened the body, so the serial is genuine: voiding hurts only this card.
                _write_state(layout, chip, header.serial, _StateRecord(record.generation, void=True))
                raise _tampered("the card's state is older or newer than its record")
            yield CardTransaction(path=path, layout=layout, chip=chip, header=header, body=body)


def create_card_file(path: Path, *, layout: KeyLayout, chip: VirtualChip, header: CardHeader, body: CardBody) -> None:
    """Write a new card and its first state record (the card file is created exclusively: no overwrite)."""
    sealed = chip.seal(header.to_bytes(), body, serial=header.serial)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE_MODE)
    os.close(fd)  # reserve the name, then fill it atomically
    write_atomic(path, _render(header, sealed), mode=PRIVATE_FILE_MODE)
    _write_state(layout, chip, header.serial, _StateRecord(body.generation, void=False))
