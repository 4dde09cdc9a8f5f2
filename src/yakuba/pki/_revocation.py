"""Card certificate revocation: the JPKI user-authentication CA's CRL."""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from yakuba.clock import Clock, SystemClock
from yakuba.config import Deployment
from yakuba.errors import ConfigError, NotFoundError, ValidationError
from yakuba.pki._atomic import exclusive_lock, write_atomic
from yakuba.pki._certs import check_card_serial
from yakuba.pki._keys import PUBLIC_FILE_MODE
from yakuba.pki._layout import KeyLayout

if TYPE_CHECKING:
    from yakuba.pki._authority import Authority

__all__ = [
    "CRL_VALIDITY",
    "REVOCATION_REASONS",
    "add_lapsed_serials",
    "ensure_crl",
    "is_revoked",
    "load_crl",
    "revoke_card",
]

CRL_VALIDITY = dt.timedelta(days=7)
"""nextUpdate is a week out: relying parties refetch at least weekly; `init_pki` renews a stale CRL."""

REVOCATION_REASONS: dict[str, x509.ReasonFlags] = {
    flag.value: flag
    for flag in (
        x509.ReasonFlags.unspecified,
        x509.ReasonFlags.key_compromise,
        x509.ReasonFlags.affiliation_changed,
        x509.ReasonFlags.superseded,
        x509.ReasonFlags.cessation_of_operation,
        x509.ReasonFlags.certificate_hold,
        x509.ReasonFlags.privilege_withdrawn,
    )
}
"""RFC 5280 reason names a card may be revoked for (lost card: keyCompromise; moved away: affiliationChanged)."""


def _read_crl(path_bytes: bytes) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(path_bytes)


def load_crl(dep: Deployment) -> x509.CertificateRevocationList:
    """The current CRL of card certificates, checked to be signed by the user-authentication CA."""
    layout = KeyLayout.of(dep.key_dir)
    try:
        crl = _read_crl(layout.jpki_crl.read_bytes())
        issuer = x509.load_pem_x509_certificate(layout.jpki_auth.cert.read_bytes())
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{layout.jpki_crl}: missing (run `yakuba pki init DIR`)",
            ja=f"{layout.jpki_crl}: ありません（`yakuba pki init DIR` を実行してください）",
        ) from exc
    except ValueError as exc:
        raise ConfigError(
            f"{layout.jpki_crl}: not a readable CRL", ja=f"{layout.jpki_crl}: CRLとして読めません"
        ) from exc
    public = issuer.public_key()
    if not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey) or not crl.is_signature_valid(public):
        raise ConfigError(
            f"{layout.jpki_crl}: not signed by the user-authentication CA",
            ja=f"{layout.jpki_crl}: 利用者証明用CAの署名がありません",
        )
    return crl


def is_revoked(crl: x509.CertificateRevocationList, *, serial: str | int) -> bool:
    """Whether the card certificate with this serial (hex card serial or integer) is on CRL."""
    number = int(check_card_serial(serial), 16) if isinstance(serial, str) else serial
    return crl.get_revoked_certificate_by_serial_number(number) is not None


def _build_crl(
    *,
    issuer: Authority,
    entries: list[x509.RevokedCertificate],
    number: int,
    now: dt.datetime,
) -> x509.CertificateRevocationList:
    ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    # The entries go in at once: adding them one by one copies the list each time (21 s for 100,000).
    builder = (
        x509.CertificateRevocationListBuilder(revoked_certificates=list(entries))
        .issuer_name(issuer.cert.subject)
        .last_update(now)
        .next_update(now + CRL_VALIDITY)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
    return builder.sign(issuer.key, hashes.SHA256())


def _write(layout: KeyLayout, crl: x509.CertificateRevocationList) -> None:
    write_atomic(layout.jpki_crl, crl.public_bytes(serialization.Encoding.PEM), mode=PUBLIC_FILE_MODE)


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def ensure_crl(layout: KeyLayout, *, issuer: Authority, now: dt.datetime) -> None:
    """Create the CRL if missing, or re-sign it with the same entries when it is due (nextUpdate near)."""
    if not layout.jpki_crl.exists():
        _write(layout, _build_crl(issuer=issuer, entries=[], number=1, now=now))
        return
    crl = _read_crl(layout.jpki_crl.read_bytes())
    public = issuer.cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey) or not crl.is_signature_valid(public):
        # Never drop revocations silently: a CRL we cannot vouch for needs a person to look at it.
        raise ConfigError(
            f"{layout.jpki_crl}: not signed by the current user-authentication CA; move it away to start a new one",
            ja=f"{layout.jpki_crl}: 現在の利用者証明用CAの署名ではありません。新しく作る場合は移動してください",
        )
    next_update = crl.next_update_utc
    if next_update is not None and next_update - now > CRL_VALIDITY / 2 and crl.issuer == issuer.cert.subject:
        return
    _write(layout, _build_crl(issuer=issuer, entries=list(crl), number=_crl_number(crl) + 1, now=now))


def revoke_card(
    dep: Deployment, serial: str, reason: str, *, clock: Clock | None = None
) -> x509.CertificateRevocationList:
    """Revoke the card certificate SERIAL for REASON and publish a new CRL; revoking twice keeps the first entry.

    1. Check the serial's form and the reason's name (ValidationError), and that this CA issued the card
       (NotFoundError): a typo must not be published as a revocation.
    2. Under the PKI lock, read the current CRL and check its signature, so no entry from a forged file
       is carried over.
    3. Add the entry with its reason code, bump the CRL number and sign with the intermediate.
    """
    from yakuba.pki._authority import load_authority

    # Step 1
    card_serial = check_card_serial(serial)
    by_name = {flag.name: flag for flag in REVOCATION_REASONS.values()}
    flag = REVOCATION_REASONS.get(reason) or by_name.get(reason)
    if flag is None:
        names = ", ".join(REVOCATION_REASONS)
        raise ValidationError(
            f"unknown card revocation reason {reason!r} (one of: {names})",
            ja=f"カードの失効理由 {reason!r} は使えません（{names} のいずれか）",
        )
    layout = KeyLayout.of(dep.key_dir)
    if not layout.issued_card(card_serial).exists():
        raise NotFoundError(
            f"no card with serial {card_serial} was issued by this deployment",
            ja=f"シリアル番号 {card_serial} のカードはこのデプロイメントで発行されていません",
        )
    now = (clock or SystemClock()).now()
    with exclusive_lock(layout.lock):
        # Step 2
        crl = load_crl(dep)
        number = int(card_serial, 16)
        if crl.get_revoked_certificate_by_serial_number(number) is not None:
            return crl
        issuer = load_authority(layout.jpki_auth, key_dir=dep.key_dir)
        # Step 3
        entry = x509.RevokedCertificateBuilder().serial_number(number).revocation_date(now)
        if flag is not x509.ReasonFlags.unspecified:  # RFC 5280: unspecified is expressed by omission
            entry = entry.add_extension(x509.CRLReason(flag), critical=False)
        entries = [*crl, entry.build()]
        new = _build_crl(issuer=issuer, entries=entries, number=_crl_number(crl) + 1, now=now)
        _write(layout, new)
        return new


def add_lapsed_serials(dep: Deployment, count: int, *, seed: int = 0, clock: Clock | None = None) -> int:
    """Publish a new CRL that also lists COUNT serials no card of DEP holds; how many entries it has.

    The national CRL of user-authentication certificates lists every card that lapsed before its term (lost,
    stolen, handed back, its holder's death): a verifier measured against the few entries of a test
    deployment never meets a list of that size. Benchmarks and soak runs fill it with this. The serials are
    drawn from SEED (reproducible), skip the serials of cards this deployment issued and those already
    listed, and are revoked without a reason code, as most entries of a real list are.
    """
    from yakuba.pki._authority import load_authority

    if count < 0:
        raise ValidationError("the number of serials to add cannot be negative", ja="追加する件数が負の数です")
    layout = KeyLayout.of(dep.key_dir)
    now = (clock or SystemClock()).now()
    rng = random.Random(seed)  # noqa: S311 - filler serials for a load test, not a secret
    with exclusive_lock(layout.lock):
        crl = load_crl(dep)
        taken = {entry.serial_number for entry in crl}
        added: list[x509.RevokedCertificate] = []
        while len(added) < count:
            number = rng.getrandbits(64)
            if not number or number in taken or layout.issued_card(format(number, "016X")).exists():
                continue
            taken.add(number)
            added.append(x509.RevokedCertificateBuilder().serial_number(number).revocation_date(now).build())
        issuer = load_authority(layout.jpki_auth, key_dir=dep.key_dir)
        entries = [*crl, *added]
        _write(layout, _build_crl(issuer=issuer, entries=entries, number=_crl_number(crl) + 1, now=now))
    return len(entries)
