"""C2SP signed notes and witness cosignatures; careful: the one place holding the log's signing keys."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from yakuba.audit.errors import CheckpointError

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_NOTE_SIGNATURES",
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "Verifier",
    "key_id",
    "open_note",
    "parse_note",
    "parse_verifier_key",
    "sign_note",
]

SIG_ED25519 = 0x01
"""Signature type of plain Ed25519 note signatures (C2SP signed-note)."""

SIG_COSIGNATURE_V1 = 0x04
"""Signature type of timestamped Ed25519 witness cosignatures (C2SP tlog-cosignature)."""

MAX_NOTE_SIGNATURES = 100
"""As Go's note package: enough for a log and any sensible witness quorum, bounded against floods."""

MAX_NOTE_BYTES = 64 * 1024
"""A checkpoint with a hundred signatures is under 15 KB; anything larger is not one."""

_DASH = "\u2014 "
_KEY_NAME = re.compile(r"^[^\s+]+$")
_COSIGNATURE_HEADER = "cosignature/v1\n"


def key_id(name: str, sig_type: int, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || type || public key)[:4] as a big-endian uint32 (C2SP signed-note)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _check_name(name: str) -> None:
    if not _KEY_NAME.match(name):
        raise CheckpointError("a note key name must be non-empty, without spaces or '+'")


class Verifier(Protocol):
    """A known key that may have signed a note: matched by (name, key id), then checked."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> None: ...


class NoteSigner:
    """An Ed25519 note signing key (type 0x01). Careful: holds the private key."""

    def __init__(self, *, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self.name = name
        self._key = private_key
        self._public = _raw_public(private_key.public_key())
        self.key_id = key_id(name, SIG_ED25519, self._public)

    @classmethod
    def generate(cls, *, name: str) -> NoteSigner:
        return cls(name=name, private_key=Ed25519PrivateKey.generate())

    def sign(self, text: bytes) -> bytes:
        """key id || Ed25519(text)."""
        return struct.pack(">I", self.key_id) + self._key.sign(text)

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(name=self.name, public_key=self._public)


class _Ed25519Verifier:
    """A named Ed25519 public key of one signature type, and its vkey `<name>+<hex id>+<base64(type || key)>`.

    The log's and a witness's verifiers are separate classes on purpose: a cosignature key must never pass
    where a log key is required (isinstance checks tell them apart).
    """

    sig_type: int

    def __init__(self, *, name: str, public_key: bytes) -> None:
        _check_name(name)
        if len(public_key) != 32:
            raise CheckpointError("an Ed25519 public key has 32 bytes")
        self.name = name
        self.public_key = public_key
        self._key = Ed25519PublicKey.from_public_bytes(public_key)
        self.key_id = key_id(name, self.sig_type, public_key)

    def vkey(self) -> str:
        material = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{material}"


class NoteVerifier(_Ed25519Verifier):
    """The public half of a NoteSigner."""

    sig_type = SIG_ED25519

    def verify(self, text: bytes, signature: bytes) -> None:
        if len(signature) != 64:
            raise CheckpointError(f"signature by {self.name} has the wrong length")
        try:
            self._key.verify(signature, text)
        except InvalidSignature as exc:
            raise CheckpointError(f"signature by {self.name} does not verify") from exc


class CosignatureSigner:
    """A witness's Ed25519 cosigning key (type 0x04, `cosignature/v1`). Careful: holds the private key."""

    def __init__(self, *, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self.name = name
        self._key = private_key
        self._public = _raw_public(private_key.public_key())
        self.key_id = key_id(name, SIG_COSIGNATURE_V1, self._public)

    @classmethod
    def generate(cls, *, name: str) -> CosignatureSigner:
        return cls(name=name, private_key=Ed25519PrivateKey.generate())

    def sign(self, text: bytes, *, timestamp: int) -> bytes:
        """key id || timestamp (u64 BE) || Ed25519("cosignature/v1\\ntime <t>\\n" || checkpoint body)."""
        if not 0 <= timestamp < 2**63:
            raise ValueError("cosignature timestamp out of range")
        message = _cosigned_message(text, timestamp)
        return struct.pack(">IQ", self.key_id, timestamp) + self._key.sign(message)

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(name=self.name, public_key=self._public)


def _cosigned_message(text: bytes, timestamp: int) -> bytes:
    return f"{_COSIGNATURE_HEADER}time {timestamp}\n".encode("ascii") + text


class CosignatureVerifier(_Ed25519Verifier):
    """The public half of a CosignatureSigner."""

    sig_type = SIG_COSIGNATURE_V1

    def timestamp(self, signature: bytes) -> int:
        """The cosigning time (POSIX seconds) carried by a cosignature; verify it first."""
        return int.from_bytes(signature[:8], "big")

    def verify(self, text: bytes, signature: bytes) -> None:
        if len(signature) != 8 + 64:
            raise CheckpointError(f"cosignature by {self.name} has the wrong length")
        timestamp = self.timestamp(signature)
        if timestamp >= 2**63:
            raise CheckpointError(f"cosignature by {self.name} has an impossible timestamp")
        try:
            self._key.verify(signature[8:], _cosigned_message(text, timestamp))
        except InvalidSignature as exc:
            raise CheckpointError(f"cosignature by {self.name} does not verify") from exc


def parse_verifier_key(vkey: str) -> NoteVerifier | CosignatureVerifier:
    """Parse a vkey string; the key id in it must match the key (stops a pasted key of another name)."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise CheckpointError("a verifier key reads <name>+<8 hex digits>+<base64 key>")
    name, hex_id, material = parts
    try:
        raw = base64.b64decode(material, validate=True)
    except binascii.Error as exc:
        raise CheckpointError("the verifier key's material is not base64") from exc
    if len(raw) != 33:
        raise CheckpointError("the verifier key is not an Ed25519 key")
    verifier: NoteVerifier | CosignatureVerifier
    if raw[0] == SIG_ED25519:
        verifier = NoteVerifier(name=name, public_key=raw[1:])
    elif raw[0] == SIG_COSIGNATURE_V1:
        verifier = CosignatureVerifier(name=name, public_key=raw[1:])
    else:
        raise CheckpointError(f"unsupported note signature type 0x{raw[0]:02x}")
    if verifier.key_id != int(hex_id, 16):
        raise CheckpointError("the verifier key's id does not match its name and key")
    return verifier


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteSignature:
    """One signature line: key name, key id, and the signature bytes after the id."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        blob = struct.pack(">I", self.key_id) + self.signature
        return f"{_DASH}{self.name} {base64.b64encode(blob).decode('ascii')}\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """A parsed (not yet verified) note: its text, ending in a newline, and its signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def format(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signature(self, signature: NoteSignature) -> Note:
        """This note with one more signature (e.g. a witness cosignature); an identical line is not added twice."""
        if signature in self.signatures:
            return self
        return Note(text=self.text, signatures=(*self.signatures, signature))


def parse_note(data: str) -> Note:
    """Split a signed note into its text and signature lines, enforcing the C2SP format strictly."""
    if len(data.encode("utf-8")) > MAX_NOTE_BYTES:
        raise CheckpointError(f"a note is at most {MAX_NOTE_BYTES} bytes")
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise CheckpointError("a note must not contain control characters")
    split = data.rfind("\n\n")
    if split < 0 or not data.endswith("\n"):
        raise CheckpointError("a note is text, a blank line, then signature lines")
    text, block = data[: split + 1], data[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise CheckpointError("a note has no signatures")
    if len(lines) > MAX_NOTE_SIGNATURES:
        raise CheckpointError(f"a note carries at most {MAX_NOTE_SIGNATURES} signatures")
    sigs: list[NoteSignature] = []
    for line in lines:
        if not line.startswith(_DASH):
            raise CheckpointError("a signature line starts with an em dash and a space")
        name, _sp, b64 = line[len(_DASH) :].partition(" ")
        _check_name(name)
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise CheckpointError("a note signature is not base64") from exc
        if len(blob) < 5:
            raise CheckpointError("a note signature is too short")
        sigs.append(NoteSignature(name=name, key_id=int.from_bytes(blob[:4], "big"), signature=blob[4:]))
    return Note(text=text, signatures=tuple(sigs))


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """TEXT (ending in a newline) signed by each signer, as a complete note."""
    if not text.endswith("\n"):
        raise CheckpointError("note text must end in a newline")
    data = text.encode("utf-8")
    sigs = []
    for signer in signers:
        blob = signer.sign(data)
        sigs.append(NoteSignature(name=signer.name, key_id=signer.key_id, signature=blob[4:]))
    return Note(text=text, signatures=tuple(sigs)).format()


def open_note(data: str, verifiers: Sequence[Verifier]) -> tuple[Note, list[Verifier]]:
    """Parse a note and verify it: returns the note and the known keys whose signatures verified.

    1. Parse strictly (size, control characters, line shapes): stops parser confusion.
    2. Match each signature to a known key by name AND key id; ignore unknown ones, as the spec says,
       so a third party's extra signature cannot break a note.
    3. Every signature from a known key must verify, else the whole note is refused: stops a forged
       or tampered note riding on a valid signature elsewhere in it.
    4. At least one known key must have signed: stops an unsigned or foreign-signed note.
    """
    note = parse_note(data)  # step 1
    known = {(v.name, v.key_id): v for v in verifiers}
    text = note.text.encode("utf-8")
    ok: list[Verifier] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))  # step 2
        if verifier is None:
            continue
        verifier.verify(text, sig.signature)  # step 3
        if verifier not in ok:
            ok.append(verifier)
    if not ok:  # step 4
        raise CheckpointError("the note carries no signature from a known key")
    return note, ok
