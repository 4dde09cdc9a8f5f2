"""The city counter's authority over its residents' cards: signed, single-use PIN-reset authorizations."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from yakuba.clock import Clock, SystemClock
from yakuba.config import Deployment
from yakuba.errors import AuthorizationError, ConfigError, NotFoundError, ValidationError, VerificationError
from yakuba.pki._cardfile import PIN_SALT_BYTES, check_pin_format, hash_pin
from yakuba.pki._certs import DOCUMENT_SIGNING_EKU, load_certificate
from yakuba.pki._keys import load_private_key
from yakuba.pki._layout import KeyLayout

__all__ = [
    "PIN_RESET_TOKEN_TTL",
    "CityCounter",
    "PinResetAuthorization",
    "ResetChallenge",
    "ResetGrant",
    "verify_reset_authorization",
]

PIN_RESET_TOKEN_TTL = dt.timedelta(minutes=10)
"""A reset authorization is used at the counter while the resident waits; a token found later is worthless."""

CLOCK_SKEW = dt.timedelta(minutes=2)
"""Tolerated difference between the counter terminal's clock and the card reader's."""

PIN_RESET_PURPOSE = "yakuba-card-pin-reset-v1"
"""Domain separation: the counter key's signature over this payload means nothing else."""


@dataclass(frozen=True, slots=True)
class ResetChallenge:
    """What the counter reads from the card in front of it and signs: serial, city, current generation."""

    serial: str
    city_code: str
    generation: int


class _CardAtCounter(Protocol):
    @property
    def city_code(self) -> str: ...

    def pin_reset_challenge(self) -> ResetChallenge: ...


@dataclass(frozen=True, slots=True)
class PinResetAuthorization:
    """A reset token: the signed payload, the counter's signature and the counter certificate (DER)."""

    payload: bytes
    signature: bytes
    counter_certificate: bytes

    def to_text(self) -> str:
        doc = {
            "certificate": base64.b64encode(self.counter_certificate).decode("ascii"),
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }
        return base64.urlsafe_b64encode(json.dumps(doc, sort_keys=True).encode("ascii")).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> PinResetAuthorization:
        try:
            doc = json.loads(base64.urlsafe_b64decode(text.strip().encode("ascii")))
            return cls(
                payload=base64.b64decode(doc["payload"], validate=True),
                signature=base64.b64decode(doc["signature"], validate=True),
                counter_certificate=base64.b64decode(doc["certificate"], validate=True),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise ValidationError("not a PIN reset authorization", ja="暗証番号の再設定許可として読めません") from exc


@dataclass(frozen=True, slots=True)
class ResetGrant:
    """A verified authorization: which card state it resets and the new PIN hash (salt, hash), if any."""

    serial: str
    city_code: str
    generation: int
    new_pin: tuple[bytes, bytes] | None = field(repr=False)


class CityCounter:
    """A city office counter: the only holder of the city's counter key."""

    __slots__ = ("_cert", "_city_code", "_clock", "_key")

    def __init__(
        self, *, city_code: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, clock: Clock
    ) -> None:
        self._city_code = city_code
        self._key = key
        self._cert = cert
        self._clock = clock

    @classmethod
    def from_deployment(cls, dep: Deployment, city_code: str, *, clock: Clock | None = None) -> CityCounter:
        try:
            dep.city(city_code)
        except KeyError as exc:
            raise NotFoundError(
                f"no city {city_code!r} in this deployment",
                ja=f"市区町村 {city_code!r} はこのデプロイメントにありません",
            ) from exc
        paths = KeyLayout.of(dep.key_dir).counter(city_code)
        cert = load_certificate(paths.cert)
        key = load_private_key(paths.key, key_dir=dep.key_dir)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or cert.public_key() != key.public_key():
            raise ConfigError(f"{paths.key}: does not match {paths.cert.name}", ja=f"{paths.key}: 証明書と対応しません")
        return cls(city_code=city_code, key=key, cert=cert, clock=clock or SystemClock())

    def __repr__(self) -> str:
        return f"CityCounter(city_code={self._city_code})"

    @property
    def city_code(self) -> str:
        return self._city_code

    def authorize_pin_reset(self, card: _CardAtCounter, *, new_pin: str | None = None) -> PinResetAuthorization:
        """Sign a reset for the card in front of the counter (same city only), optionally with a new PIN."""
        if card.city_code != self._city_code:
            raise AuthorizationError(
                "this card was issued by another city; only that city can reset it",
                ja="他の市区町村が発行したカードです。発行元の市区町村でのみ解除できます",
            )
        if new_pin is not None:
            check_pin_format(new_pin)
        return self._sign(card.pin_reset_challenge(), new_pin=new_pin)

    def _sign(self, challenge: ResetChallenge, *, new_pin: str | None) -> PinResetAuthorization:
        now = self._clock.now()
        pin: Any = "keep"
        if new_pin is not None:
            salt = secrets.token_bytes(PIN_SALT_BYTES)
            pin = {
                "hash": base64.b64encode(hash_pin(new_pin, salt)).decode("ascii"),
                "salt": base64.b64encode(salt).decode("ascii"),
            }
        doc = {
            "city": challenge.city_code,
            "expires_at": (now + PIN_RESET_TOKEN_TTL).isoformat(),
            "generation": challenge.generation,
            "issued_at": now.isoformat(),
            "pin": pin,
            "purpose": PIN_RESET_PURPOSE,
            "serial": challenge.serial,
        }
        payload = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("ascii")
        signature = self._key.sign(payload, ec.ECDSA(hashes.SHA256()))
        return PinResetAuthorization(
            payload=payload,
            signature=signature,
            counter_certificate=self._cert.public_bytes(serialization.Encoding.DER),
        )


def _refuse(detail: str) -> VerificationError:
    return VerificationError(detail, ja="暗証番号の再設定許可を検証できません")


def verify_reset_authorization(
    dep: Deployment, authorization: PinResetAuthorization, *, serial: str, city_code: str, now: dt.datetime
) -> ResetGrant:
    """Check a reset token for the card SERIAL of CITY_CODE; return what it grants or raise.

    1. The counter certificate is directly issued by the LGPKI root, currently valid, an end entity,
       and a counter certificate (EKU clientAuth, not documentSigning). Threat: a token signed by any
       other key, including the city's own document-signing key.
    2. Its OU is the card's city code. Threat: one city resetting another city's residents' cards.
    3. The signature over the payload verifies. Threat: an edited or forged token.
    4. Purpose, serial, city and time window match. Threat: a token meant for another card or use, or
       kept and used later.
    """
    layout = KeyLayout.of(dep.key_dir)
    root = load_certificate(layout.lgpki_root.cert)
    # Step 1
    try:
        cert = x509.load_der_x509_certificate(authorization.counter_certificate)
        cert.verify_directly_issued_by(root)
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound) as exc:
        raise _refuse("the counter certificate is not from the government organisation root") from exc
    if basic.ca or ExtendedKeyUsageOID.CLIENT_AUTH not in eku or DOCUMENT_SIGNING_EKU in eku:
        raise _refuse("the certificate is not a city counter certificate")
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise _refuse("the counter certificate is not valid now")
    # Step 2
    units = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    if units != [city_code]:
        raise AuthorizationError(
            "the reset was authorized by another city's counter",
            ja="他の市区町村の窓口による許可のため、このカードには使えません",
        )
    # Step 3
    public = cert.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise _refuse("the counter key has the wrong type")
    try:
        public.verify(authorization.signature, authorization.payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise _refuse("the reset authorization's signature does not verify") from exc
    # Step 4
    try:
        doc = json.loads(authorization.payload)
        purpose, token_serial, token_city = doc["purpose"], doc["serial"], doc["city"]
        generation = int(doc["generation"])
        issued_at = dt.datetime.fromisoformat(doc["issued_at"])
        expires_at = dt.datetime.fromisoformat(doc["expires_at"])
        pin = doc["pin"]
        new_pin = (
            None
            if pin == "keep"
            else (base64.b64decode(pin["salt"], validate=True), base64.b64decode(pin["hash"], validate=True))
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise _refuse("the reset authorization is malformed") from exc
    if purpose != PIN_RESET_PURPOSE or token_serial != serial or token_city != city_code:
        raise _refuse("the reset authorization is for another card")
    if not issued_at - CLOCK_SKEW <= now < expires_at or expires_at - issued_at > PIN_RESET_TOKEN_TTL:
        raise _refuse("the reset authorization has expired")
    return ResetGrant(serial=serial, city_code=city_code, generation=generation, new_pin=new_pin)
