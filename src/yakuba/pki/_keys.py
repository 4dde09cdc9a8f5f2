"""Raw key handling, in one place; careful: every private key and secret of the PKI passes through here.

Rules kept here and nowhere else:
- private key files are 0600 and their folders 0700, written atomically;
- a private key or secret whose file is readable by group or others, or whose folder is readable by others,
  is refused on load, with the chmod that fixes it;
- keys are PKCS#8 PEM without a passphrase: the folder permissions are the protection, as for a TLS server.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from yakuba.errors import ConfigError
from yakuba.pki._atomic import write_atomic

__all__ = [
    "CHIP_SECRET_BYTES",
    "KEY_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "PUBLIC_FILE_MODE",
    "RSA_KEY_BITS",
    "PrivateKey",
    "check_private_file",
    "ensure_private_dir",
    "generate_ec_key",
    "generate_rsa_key",
    "load_private_key",
    "load_secret",
    "new_secret",
    "write_private_key",
    "write_secret",
]

PRIVATE_FILE_MODE = 0o600
"""Owner read/write only: a private key readable by another account is a compromised key."""

KEY_DIR_MODE = 0o700
"""Owner only: others must not even list which keys exist."""

PUBLIC_FILE_MODE = 0o644
"""Certificates and CRLs are public."""

RSA_KEY_BITS = 2048
"""The JPKI user-authentication keys and CAs are RSA-2048, as on the real My Number card."""

RSA_PUBLIC_EXPONENT = 65537
"""The only public exponent anyone should use (F4)."""

CHIP_SECRET_BYTES = 32
"""The virtual chip secret is an AES-256 / HMAC-SHA256 key."""

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def generate_ec_key() -> ec.EllipticCurvePrivateKey:
    """A new ECDSA P-256 key (CAs, services, city keys)."""
    return ec.generate_private_key(ec.SECP256R1())


def generate_rsa_key() -> rsa.RSAPrivateKey:
    """A new RSA-2048 key (the JPKI stand-in and the cards); slow, around 50-200 ms."""
    return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=RSA_KEY_BITS)


def ensure_private_dir(folder: Path) -> None:
    """Create FOLDER (and missing parents) owner-only, and narrow it to 0700 if it exists wider."""
    missing: list[Path] = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    folder.mkdir(mode=KEY_DIR_MODE, parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, KEY_DIR_MODE)
    if stat.S_IMODE(folder.stat().st_mode) != KEY_DIR_MODE:
        os.chmod(folder, KEY_DIR_MODE)


def write_private_key(path: Path, key: PrivateKey) -> None:
    """Write KEY as unencrypted PKCS#8 PEM, 0600, atomically, into an owner-only folder."""
    ensure_private_dir(path.parent)
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    write_atomic(path, pem, mode=PRIVATE_FILE_MODE)


def write_secret(path: Path, secret: bytes) -> None:
    """Write a raw symmetric secret, 0600, atomically, into an owner-only folder."""
    ensure_private_dir(path.parent)
    write_atomic(path, secret, mode=PRIVATE_FILE_MODE)


def check_private_file(path: Path, *, key_dir: Path) -> None:
    """Refuse PATH if it or a folder between it and KEY_DIR is open to other accounts.

    Threat: a key another local account can read is a key that account can use; refusing to load it
    makes the mistake loud instead of silent.
    """
    _check_file_mode(path, os.stat(path, follow_symlinks=True).st_mode)
    _check_folders(path, key_dir=key_dir)


def load_private_key(path: Path, *, key_dir: Path) -> PrivateKey:
    """Load a PEM private key after checking its file and folder permissions."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: private key missing (run `yakuba pki init DIR`)",
            ja=f"{path}: 秘密鍵がありません（`yakuba pki init DIR` を実行してください）",
        ) from exc
    try:
        # fstat on the opened file: the permissions checked are those of the bytes read.
        _check_file_mode(path, os.fstat(fd).st_mode)
        _check_folders(path, key_dir=key_dir)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read()
    finally:
        os.close(fd)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not a readable PEM private key", ja=f"{path}: 秘密鍵として読めません") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ConfigError(f"{path}: unexpected key type", ja=f"{path}: 想定外の鍵種別です")
    return key


def load_secret(path: Path, *, key_dir: Path, size: int = CHIP_SECRET_BYTES) -> bytes:
    """Load a raw secret of SIZE bytes after checking its file and folder permissions."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: secret missing (run `yakuba pki init DIR`)",
            ja=f"{path}: 秘密情報がありません（`yakuba pki init DIR` を実行してください）",
        ) from exc
    try:
        _check_file_mode(path, os.fstat(fd).st_mode)
        _check_folders(path, key_dir=key_dir)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(size + 1)
    finally:
        os.close(fd)
    if len(data) != size:
        raise ConfigError(f"{path}: secret has the wrong length", ja=f"{path}: 秘密情報の長さが不正です")
    return data


def new_secret(size: int = CHIP_SECRET_BYTES) -> bytes:
    """SIZE bytes from the operating system's CSPRNG."""
    return secrets.token_bytes(size)


def _check_file_mode(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{path}: not a regular file", ja=f"{path}: 通常のファイルではありません")
    if stat.S_IMODE(mode) & 0o077:
        raise ConfigError(
            f"{path}: private key file is readable by other accounts; refusing to use it (fix with: chmod 600 {path})",
            ja=f"{path}: 秘密鍵ファイルが他のアカウントから読めるため使用しません（chmod 600 {path} で修正）",
        )


def _check_folders(path: Path, *, key_dir: Path) -> None:
    folder = path.parent.resolve()
    top = key_dir.resolve()
    while True:
        if stat.S_IMODE(folder.stat().st_mode) & 0o007:
            raise ConfigError(
                f"{folder}: key folder is readable by other accounts; refusing to use {path.name} "
                f"(fix with: chmod 700 {folder})",
                ja=f"{folder}: 鍵フォルダが他のアカウントから読めるため使用しません（chmod 700 {folder} で修正）",
            )
        if folder == top or folder.parent == folder or top not in folder.parents:
            return
        folder = folder.parent
