"""Hostile input the OpenAPI fuzzing cannot produce: bodies that are not JSON text at all, card certificates
that are almost right, and certificates used by the wrong party. Every one is refused with a 4xx or in the
TLS handshake, never a 5xx, and the service keeps serving."""

from __future__ import annotations

import datetime as dt
import gc
import warnings

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from yakuba.errors import VerificationError
from yakuba.network._roles import find_instance, health_caller
from yakuba.pki import CardTrust, load_service_identity
from yakuba.pki._authority import load_authority
from yakuba.pki._certs import CertificateProfile, build_ca_certificate, build_leaf_certificate
from yakuba.pki._keys import PrivateKey
from yakuba.pki._layout import KeyLayout
from yakuba.wire._tls import client_ssl_context

from .conftest import ContextAdapter, FuzzChain

SERVICES = ["center-1", "jpki-1", "midori-hq", "nishitokyo-forwarder", "nishitokyo-issuer-juki"]
POST_PATHS = {
    "center-1": "/v1/issuances",
    "jpki-1": "/v1/health",
    "midori-hq": "/v1/issuances",
    "nishitokyo-forwarder": "/v1/issuances",
    "nishitokyo-issuer-juki": "/v1/issuances",
}
NESTING = 100_000
"""Deep enough to overflow a recursive JSON parser many times over."""

HOSTILE_BODIES = {
    "nested arrays": b"[" * NESTING + b"]" * NESTING,
    "nested objects": b'{"a":' * NESTING + b"1" + b"}" * NESTING,
    "invalid utf-8": b'{"request": {"transaction_id": "tx-\xff\xfe\xfd"}}',
    "utf-16": '{"a": 1}'.encode("utf-16"),
    "nul bytes": b'{"a": "\x00\x00"}',
    "huge number": b'{"copies": 1' + b"0" * 5000 + b"}",
    "lone surrogate": b'{"a": "\\ud800"}',
    "oversized": b'{"a": "' + b"x" * (3 * 1024 * 1024) + b'"}',
}


def _call(chain: FuzzChain, instance: str, path: str, body: bytes) -> requests.Response:
    caller, segment, role = health_caller(chain.dep, instance)
    base = find_instance(chain.dep, instance).config.base_url
    with chain.session(caller, segment, role) as session:
        return session.post(
            base + path,
            data=body,
            headers={"Content-Type": "application/json", "Idempotency-Key": "tx-" + "0" * 32},
            timeout=60,
        )


@pytest.mark.parametrize("instance", SERVICES)
def test_bodies_that_are_not_json_text_are_4xx_and_change_nothing(fuzz_chain: FuzzChain, instance: str) -> None:
    before = fuzz_chain.state()
    for name, body in HOSTILE_BODIES.items():
        response = _call(fuzz_chain, instance, POST_PATHS[instance], body)
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text[:200])
        assert set(response.json()) == {"error", "message", "message_ja"}, name
    assert fuzz_chain.state() == before
    caller, segment, role = health_caller(fuzz_chain.dep, instance)
    with fuzz_chain.session(caller, segment, role) as session:
        base = find_instance(fuzz_chain.dep, instance).config.base_url
        assert session.get(base + "/v1/health", timeout=30).status_code == 200


# -- card certificates that are almost right ---------------------------------------------------------------


def _card_like(
    issuer_cert: x509.Certificate,
    issuer_key: PrivateKey,
    *,
    key: PrivateKey | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    profile: CertificateProfile | None = None,
) -> bytes:
    """A certificate built as the JPKI builds a card's (the card profile's usages) unless told otherwise."""
    now = dt.datetime.now(dt.UTC)
    cert = build_leaf_certificate(
        subject=x509.Name(
            [x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"), x509.NameAttribute(NameOID.COMMON_NAME, "1234")]
        ),
        public_key=(key or rsa.generate_private_key(public_exponent=65537, key_size=2048)).public_key(),
        issuer=(issuer_cert, issuer_key),
        profile=profile or CertificateProfile.card(),
        not_before=not_before or now - dt.timedelta(days=1),
        not_after=not_after or now + dt.timedelta(days=365),
    )
    return cert.public_bytes(serialization.Encoding.DER)


def _ca(name: str, key: PrivateKey, *, issuer: tuple[x509.Certificate, PrivateKey] | None = None) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return build_ca_certificate(
        subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]),
        key=key,
        path_length=0,
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=3650),
        issuer=issuer,
    )


def test_almost_right_card_certificates_are_refused(fuzz_chain: FuzzChain) -> None:
    dep = fuzz_chain.dep
    layout = KeyLayout.of(dep.key_dir)
    auth = load_authority(layout.jpki_auth, key_dir=dep.key_dir)
    root = load_authority(layout.jpki_root, key_dir=dep.key_dir)
    trust = CardTrust.from_deployment(dep)
    now = dt.datetime.now(dt.UTC)
    genuine = _card_like(auth.cert, auth.key)
    assert trust.verify_certificate(genuine, now=now)  # the control: built right, it passes
    # A JPKI "signing" certificate: issued by a signing CA under the same JPKI root, not by the auth CA.
    signing_ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signing_ca = _ca("JPKI signing CA", signing_ca_key, issuer=(root.cert, root.key))
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_ca = _ca("JPKI user authentication CA", other_key)  # same name, wrong key
    variants = {
        "truncated": genuine[: len(genuine) // 2],
        "empty": b"",
        "garbage": b"\x30\x82\xff\xff" + b"\x00" * 64,
        "PEM instead of DER": b"-----BEGIN CERTIFICATE-----\n" + genuine + b"\n-----END CERTIFICATE-----\n",
        "wrong algorithm (EC key)": _card_like(auth.cert, auth.key, key=ec.generate_private_key(ec.SECP256R1())),
        "weak key (RSA-1024)": _card_like(
            auth.cert,
            auth.key,
            key=rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 - the point
        ),
        "expired": _card_like(
            auth.cert, auth.key, not_before=now - dt.timedelta(days=800), not_after=now - dt.timedelta(days=1)
        ),
        "not yet valid": _card_like(
            auth.cert, auth.key, not_before=now + dt.timedelta(days=1), not_after=now + dt.timedelta(days=800)
        ),
        "wrong CA": _card_like(other_ca, other_key),
        "signing certificate": _card_like(signing_ca, signing_ca_key),
        # The same, had the auth CA issued it: its usages still say what it is for.
        "signing usage (non-repudiation)": _card_like(
            auth.cert, auth.key, profile=CertificateProfile(content_commitment=True)
        ),
        "server certificate": _card_like(
            auth.cert, auth.key, profile=CertificateProfile(extended_key_usages=(ExtendedKeyUsageOID.SERVER_AUTH,))
        ),
        "a CA certificate": _ca(
            "1234", rsa.generate_private_key(public_exponent=65537, key_size=2048), issuer=(auth.cert, auth.key)
        ).public_bytes(serialization.Encoding.DER),
    }
    # Each is refused, and for its own reason: the resident and the operator are told what is wrong.
    reason = {
        "truncated": "cannot be parsed",
        "empty": "cannot be parsed",
        "garbage": "cannot be parsed",
        "PEM instead of DER": "cannot be parsed",
        "wrong algorithm (EC key)": "not RSA-2048",
        "weak key (RSA-1024)": "not RSA-2048",
        "expired": "has expired",
        "not yet valid": "not valid yet",
        "wrong CA": "not issued by the JPKI user-authentication CA",
        "signing certificate": "not issued by the JPKI user-authentication CA",
        "signing usage (non-repudiation)": "not a user-authentication certificate",
        "server certificate": "not a user-authentication certificate",
        "a CA certificate": "not a user-authentication certificate",
    }
    assert set(reason) == set(variants)
    told = {}
    for name, der in variants.items():
        try:
            trust.verify_certificate(der, now=now)
        except VerificationError as exc:
            told[name] = str(exc)
        else:
            told[name] = "accepted"
    assert {name: reason[name] in text for name, text in told.items()} == dict.fromkeys(variants, True), told


# -- certificates used by the wrong party ------------------------------------------------------------------


def _handshake(chain: FuzzChain, *, caller: str, caller_segment: str, server: str) -> int | str:
    """Call SERVER's health presenting CALLER's certificate of CALLER_SEGMENT, while trusting SERVER's own
    segment CA (so it is the server that judges the certificate): the status, or "tls refused"."""
    legit, segment, role = health_caller(chain.dep, server)
    context = client_ssl_context(
        load_service_identity(chain.dep, instance=legit, segment_id=segment), expected_role=role
    )
    presented = load_service_identity(chain.dep, instance=caller, segment_id=caller_segment)
    context.load_cert_chain(certfile=presented.cert_path, keyfile=presented.key_path)
    base = find_instance(chain.dep, server).config.base_url
    with requests.Session() as session:
        session.mount("https://", ContextAdapter(context))
        try:
            return session.get(base + "/v1/health", timeout=30).status_code
        except requests.exceptions.ConnectionError:  # SSLError included: the server ended the handshake
            pass
    # urllib3 leaves the socket of a refused handshake to the garbage collector (the exception's traceback holds
    # it): collect it here, where it is expected, and not during some later test as a ResourceWarning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    return "tls refused"


def test_a_kiosk_certificate_cannot_act_as_a_store_hq(fuzz_chain: FuzzChain) -> None:
    """A kiosk's key (say it leaked) used to call the center as if it were its HQ: the kiosk has no identity on
    the HQ-center segment; with its store-network certificate the center refuses it in the handshake."""
    got = _handshake(fuzz_chain, caller="midori-tanashi-1", caller_segment="store:midori", server="center-1")
    assert got == "tls refused"
    assert _handshake(fuzz_chain, caller="midori-hq", caller_segment="dedicated", server="center-1") == 200


def test_a_forwarder_certificate_cannot_call_the_issuer_of_another_city(fuzz_chain: FuzzChain) -> None:
    caller, segment, _role = health_caller(fuzz_chain.dep, "kodaira-issuer-juki")  # kodaira's own forwarder
    assert caller == "kodaira-forwarder"
    got = _handshake(fuzz_chain, caller=caller, caller_segment=segment, server="nishitokyo-issuer-juki")
    assert got == "tls refused"
    assert _handshake(fuzz_chain, caller=caller, caller_segment=segment, server="kodaira-issuer-juki") == 200
