"""Careful: the audit log's key files (checkpoint key, witness key, subject HMAC secret), read and written here only."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from yakuba.audit._note import CosignatureSigner, NoteSigner, NoteVerifier, parse_verifier_key
from yakuba.errors import ConfigError, ValidationError

__all__ = [
    "KEY_FOLDER",
    "SUBJECT_SECRET_BYTES",
    "LogKeys",
    "create_log_keys",
    "create_witness_signer",
    "load_log_signer",
    "load_log_verifier",
    "load_subject_secret",
    "load_witness_signer",
    "subject_key",
]

KEY_FOLDER = "audit"
"""Sub-folder of the deployment's key_dir holding every audit key file."""

SUBJECT_SECRET_BYTES = 32
"""HMAC-SHA256 key length: a full-strength key, so subject hashes cannot be brute-forced from ids."""

SECRET_FILE_MODE = 0o600
"""Private keys and secrets are readable by their owner only; looser files are refused on load."""

_LOG_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SUBJECT_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_SUBJECT_DOMAIN = b"yakuba-audit-subject/v1\n"


def _folder(key_dir: Path) -> Path:
    return key_dir / KEY_FOLDER


def _check_log_name(log_name: str) -> None:
    if not _LOG_NAME.match(log_name):
        raise ConfigError("an audit log name is a lowercase instance-style id")


def _write_secret(path: Path, data: bytes) -> bool:
    """Create PATH with mode 0600 from the start (never world-readable, not even for an instant), whole or not
    at all; False (and PATH left as it is) when it already exists.

    Written to a private temporary file, then hard-linked into place: several processes of one instance
    starting at once (`yakuba up --workers N`, found by `yakuba torture`) each try to create the key; exactly
    one wins and the others read the winner's complete file, never a half-written or a different one.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _read_secret(path: Path) -> bytes:
    """Read a secret file, refusing one that group or others may read (stops silently leaked keys)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise ConfigError(f"audit key file {path.name} is missing; create the log's keys first") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"audit key file {path.name} is readable by others; chmod 600 it")
    return path.read_bytes()


class LogKeys:
    """Paths of one log's key files under `<key_dir>/audit/`."""

    def __init__(self, *, key_dir: Path, log_name: str) -> None:
        _check_log_name(log_name)
        folder = _folder(key_dir)
        self.signing_key = folder / f"{log_name}.key"
        self.verifier_key = folder / f"{log_name}.vkey"
        self.subject_secret = folder / f"{log_name}.hmac"


def create_log_keys(*, key_dir: Path, log_name: str, origin: str) -> NoteVerifier:
    """Create the log's Ed25519 checkpoint key (named ORIGIN) and its subject secret; existing files are kept."""
    paths = LogKeys(key_dir=key_dir, log_name=log_name)
    if not paths.signing_key.exists():
        key = Ed25519PrivateKey.generate()
        _write_secret(paths.signing_key, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    if not paths.verifier_key.exists():
        # From the key on disk (ours, or the one another process created first); every process writes the
        # same text, replaced atomically, so a reader never sees a partial or a foreign vkey.
        verifier = NoteSigner(name=origin, private_key=_load_ed25519(paths.signing_key)).verifier()
        tmp = paths.verifier_key.with_name(f".{paths.verifier_key.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(verifier.vkey() + "\n", encoding="ascii")
        tmp.replace(paths.verifier_key)
    if not paths.subject_secret.exists():
        _write_secret(paths.subject_secret, secrets.token_bytes(SUBJECT_SECRET_BYTES))
    return load_log_verifier(key_dir=key_dir, log_name=log_name)


def _load_ed25519(path: Path) -> Ed25519PrivateKey:
    key = load_pem_private_key(_read_secret(path), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"audit key file {path.name} does not hold an Ed25519 key")
    return key


def load_log_signer(*, key_dir: Path, log_name: str, origin: str) -> NoteSigner:
    """The log's checkpoint signer; its key name is the log's origin."""
    return NoteSigner(name=origin, private_key=_load_ed25519(LogKeys(key_dir=key_dir, log_name=log_name).signing_key))


def load_log_verifier(*, key_dir: Path, log_name: str) -> NoteVerifier:
    """The log's public checkpoint key, from its vkey file."""
    path = LogKeys(key_dir=key_dir, log_name=log_name).verifier_key
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise ConfigError(f"audit verifier key {path.name} is missing") from exc
    verifier = parse_verifier_key(text)
    if not isinstance(verifier, NoteVerifier):
        raise ConfigError(f"audit verifier key {path.name} is not a log (type 0x01) key")
    return verifier


def create_witness_signer(*, key_dir: Path, witness_name: str) -> CosignatureSigner:
    """Create (once) and load the witness's cosigning key `<key_dir>/audit/witness-<hash>.key`."""
    path = _witness_path(key_dir, witness_name)
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        _write_secret(path, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return load_witness_signer(key_dir=key_dir, witness_name=witness_name)


def load_witness_signer(*, key_dir: Path, witness_name: str) -> CosignatureSigner:
    return CosignatureSigner(name=witness_name, private_key=_load_ed25519(_witness_path(key_dir, witness_name)))


def _witness_path(key_dir: Path, witness_name: str) -> Path:
    # Witness names are URL-like (slashes); the file is named by a digest of it.
    digest = hashlib.sha256(witness_name.encode("utf-8")).hexdigest()[:16]
    return _folder(key_dir) / f"witness-{digest}.key"


def load_subject_secret(*, key_dir: Path, log_name: str) -> bytes:
    """The log's subject HMAC secret (`<key_dir>/audit/<log-name>.hmac`, mode 0600)."""
    secret = _read_secret(LogKeys(key_dir=key_dir, log_name=log_name).subject_secret)
    if len(secret) != SUBJECT_SECRET_BYTES:
        raise ConfigError("the audit subject secret has the wrong length")
    return secret


def subject_key(secret: bytes, kind: str, value: str) -> str:
    """The keyed hash that stands for a subject (resident, card, vehicle) on the log: HMAC-SHA256, hex.

    Keyed, not a plain hash: ids such as a resident number come from a small space and a plain hash
    of one would be reversed by trying them all. KIND separates id spaces so equal values of different
    kinds never collide.
    """
    if len(secret) < SUBJECT_SECRET_BYTES:
        raise ValidationError(f"the subject secret must have at least {SUBJECT_SECRET_BYTES} bytes")
    if not _SUBJECT_KIND.match(kind):
        raise ValidationError("a subject kind is a short lowercase identifier")
    if not value:
        raise ValidationError("a subject id must not be empty")
    message = _SUBJECT_DOMAIN + kind.encode("ascii") + b"\n" + value.encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
