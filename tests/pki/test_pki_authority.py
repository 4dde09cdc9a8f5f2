"""CAs and service certificates: layout, X.509 profile, chains checked by openssl, identities, idempotence."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from yakuba.config import Deployment, Role, segments
from yakuba.errors import NotFoundError, VerificationError
from yakuba.pki import (
    DOCUMENT_SIGNING_EKU,
    CertificateKind,
    init_pki,
    issue_service_certificate,
    list_certificates,
    load_service_identity,
    peer_identity_from_der,
)

OpenSSL = Callable[..., subprocess.CompletedProcess[str]]


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _der(path: Path) -> bytes:
    return _cert(path).public_bytes(serialization.Encoding.DER)


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_every_segment_has_a_ca_and_every_member_a_certificate(deployment: Deployment) -> None:
    keys = deployment.key_dir
    stems = {s.file_stem for s in segments(deployment)}
    assert {"store-midori", "dedicated", "jlis", "lgwan", "backbone-132292", "backbone-132110"} <= stems
    count = 0
    for segment in segments(deployment):
        ca = _cert(keys / "ca" / f"{segment.file_stem}.crt")
        assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"{segment.id} CA"
        assert ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "yakuba sample"
        for member in (*segment.servers, *segment.clients):
            assert (keys / "services" / member.instance / f"{segment.file_stem}.key").is_file()
            assert (keys / "services" / member.instance / f"{segment.file_stem}.crt").is_file()
            count += 1
    assert count == 22
    # The center sits on three segments and holds one certificate for each.
    assert sorted(p.name for p in (keys / "services" / "center-1").glob("*.crt")) == [
        "dedicated.crt",
        "jlis.crt",
        "lgwan.crt",
    ]


def test_ca_certificates_have_the_ca_profile(deployment: Deployment) -> None:
    ca_dir = deployment.key_dir / "ca"
    expected_path_length = {"lgwan": 0, "jpki-root": 1, "jpki-auth": 0, "lgpki-root": 0}
    for stem, path_length in expected_path_length.items():
        cert = _cert(ca_dir / f"{stem}.crt")
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert basic.critical, stem
        assert (basic.value.ca, basic.value.path_length) == (True, path_length), stem
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical
        assert usage.value.key_cert_sign
        assert usage.value.crl_sign
        assert not usage.value.digital_signature
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    assert isinstance(_cert(ca_dir / "lgwan.crt").public_key(), ec.EllipticCurvePublicKey)
    for stem in ("jpki-root", "jpki-auth"):
        key = _cert(ca_dir / f"{stem}.crt").public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        assert key.key_size == 2048


def test_service_certificate_profile(deployment: Deployment) -> None:
    identity = load_service_identity(deployment, instance="center-1", segment_id="lgwan")
    cert = _cert(identity.cert_path)
    ca = _cert(identity.ca_path)
    assert identity.role is Role.CENTER
    assert cert.subject.rfc4514_string() == "CN=center-1,OU=center,O=yakuba sample"
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).critical
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://yakuba.sample/center/center-1"]
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(days=700) < lifetime < dt.timedelta(days=740)


def test_every_service_chain_verifies_with_openssl_against_its_segment_ca_only(
    deployment: Deployment, openssl: OpenSSL
) -> None:
    keys = deployment.key_dir
    all_segments = segments(deployment)
    for segment in all_segments:
        ca = keys / "ca" / f"{segment.file_stem}.crt"
        for member in (*segment.servers, *segment.clients):
            leaf = keys / "services" / member.instance / f"{segment.file_stem}.crt"
            ok = openssl("verify", "-CAfile", ca, leaf)
            assert ok.returncode == 0, ok.stdout + ok.stderr
            assert ok.stdout.strip().endswith("OK")
    # A certificate from one segment is worthless on another.
    kiosk_cert = keys / "services" / "midori-tanashi-1" / "store-midori.crt"
    for other in ("dedicated", "lgwan", "store-aozora", "backbone-132292"):
        refused = openssl("verify", "-CAfile", keys / "ca" / f"{other}.crt", kiosk_cert)
        assert refused.returncode != 0, other
        assert "unable to get local issuer certificate" in refused.stdout + refused.stderr


def test_city_and_jpki_chains_verify_with_openssl(deployment: Deployment, openssl: OpenSSL) -> None:
    keys = deployment.key_dir
    for city in deployment.cities:
        for leaf in ("document-signing", "counter"):
            result = openssl(
                "verify", "-CAfile", keys / "ca" / "lgpki-root.crt", keys / "cities" / city.code / f"{leaf}.crt"
            )
            assert result.returncode == 0, result.stdout + result.stderr
    result = openssl("verify", "-CAfile", keys / "ca" / "jpki-root.crt", keys / "ca" / "jpki-auth.crt")
    assert result.returncode == 0, result.stdout + result.stderr
    wrong_root = openssl("verify", "-CAfile", keys / "ca" / "lgpki-root.crt", keys / "ca" / "jpki-auth.crt")
    assert wrong_root.returncode != 0


def test_city_certificates_profile(deployment: Deployment) -> None:
    city = deployment.city("132292")
    signing = _cert(deployment.key_dir / "cities" / city.code / "document-signing.crt")
    assert signing.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == city.name
    assert signing.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"{city.mayor_title} 公印"
    usage = signing.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    assert not usage.key_cert_sign
    assert list(signing.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [DOCUMENT_SIGNING_EKU]
    assert DOCUMENT_SIGNING_EKU.dotted_string == "1.3.6.1.5.5.7.3.36"
    counter = _cert(deployment.key_dir / "cities" / city.code / "counter.crt")
    assert counter.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == city.code


def test_init_is_idempotent_and_repairs_what_is_missing(fresh_deployment: Deployment) -> None:
    keys = fresh_deployment.key_dir
    before = _snapshot(keys)
    summary = init_pki(fresh_deployment)
    assert summary.issued_now == 0
    assert str(summary).startswith("11 CAs, 22 service certificates, 2 cities")
    assert _snapshot(keys) == before
    (keys / "services" / "center-1" / "lgwan.crt").unlink()
    (keys / "cities" / "132110" / "counter.key").unlink()
    assert init_pki(fresh_deployment).issued_now == 2
    after = _snapshot(keys)
    assert after.keys() == before.keys()
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {
        "services/center-1/lgwan.crt",
        "services/center-1/lgwan.key",
        "cities/132110/counter.crt",
        "cities/132110/counter.key",
    }


def test_peer_identity_from_the_spiffe_san(deployment: Deployment) -> None:
    identity = load_service_identity(deployment, instance="kodaira-issuer-koseki", segment_id="backbone:132110")
    role, instance, name = peer_identity_from_der(_der(identity.cert_path))
    assert (role, instance, name) == (Role.ISSUER, "kodaira-issuer-koseki", "sample")
    assert identity.spiffe_id == "spiffe://yakuba.sample/issuer/kodaira-issuer-koseki"


def test_peer_identity_refuses_certificates_without_a_spiffe_id(deployment: Deployment) -> None:
    with pytest.raises(VerificationError, match="no subject alternative name"):
        peer_identity_from_der(_der(deployment.key_dir / "ca" / "lgwan.crt"))
    with pytest.raises(VerificationError, match="not valid DER"):
        peer_identity_from_der(b"\x30\x03garbage")


@pytest.mark.parametrize(
    ("uris", "needle"),
    [
        (["spiffe://yakuba.sample/mayor/x"], "unknown role"),
        (["spiffe://other.sample/center/center-1"], "malformed"),  # not our trust domain
        (["spiffe://yakuba.sample/center/center-1/extra"], "malformed"),
        (["spiffe://yakuba.sample/center/Center_1"], "malformed"),
        (["https://center-1.example"], "0 SPIFFE ids"),
        (["spiffe://yakuba.sample/center/a", "spiffe://yakuba.sample/issuer/b"], "2 SPIFFE ids"),
    ],
)
def test_peer_identity_refuses_malformed_spiffe_ids(uris: list[str], needle: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris]), critical=False)
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(VerificationError, match=needle):
        peer_identity_from_der(cert.public_bytes(serialization.Encoding.DER))


def test_issue_an_expired_service_certificate(fresh_deployment: Deployment, openssl: OpenSSL) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    identity = issue_service_certificate(fresh_deployment, instance="center-1", segment_id="jlis", not_after=past)
    cert = _cert(identity.cert_path)
    assert cert.not_valid_after_utc == past.replace(microsecond=0)
    assert cert.not_valid_before_utc < cert.not_valid_after_utc
    result = openssl("verify", "-CAfile", identity.ca_path, identity.cert_path)
    assert result.returncode != 0
    assert "expired" in result.stdout + result.stderr
    # init re-issues what has expired.
    assert init_pki(fresh_deployment).issued_now == 1
    assert _cert(identity.cert_path).not_valid_after_utc > dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    ("instance", "segment_id", "needle"),
    [
        ("center-1", "moon", "no network segment 'moon'"),
        ("nobody", "lgwan", "instance 'nobody' is not on segment lgwan"),
        ("midori-tanashi-1", "lgwan", "is not on segment lgwan"),  # exists, but on another segment
    ],
)
def test_issue_refuses_unknown_instance_or_segment_and_writes_nothing(
    fresh_deployment: Deployment, instance: str, segment_id: str, needle: str
) -> None:
    before = _snapshot(fresh_deployment.key_dir)
    with pytest.raises(NotFoundError, match=needle):
        issue_service_certificate(fresh_deployment, instance=instance, segment_id=segment_id)
    with pytest.raises(NotFoundError):
        load_service_identity(fresh_deployment, instance=instance, segment_id=segment_id)
    assert _snapshot(fresh_deployment.key_dir) == before


def test_list_certificates_covers_every_file(deployment: Deployment) -> None:
    infos = list_certificates(deployment, include_cards=False)
    kinds = [i.kind for i in infos]
    assert kinds.count(CertificateKind.SEGMENT_CA) == len(segments(deployment))
    assert kinds.count(CertificateKind.SERVICE) == 22
    assert kinds.count(CertificateKind.DOCUMENT_SIGNING) == kinds.count(CertificateKind.COUNTER) == 2
    assert kinds.count(CertificateKind.CRL) == 1
    for info in infos:
        assert info.path.is_file()
        assert (
            info.fingerprint
            == hashlib.sha256(
                _der(info.path)
                if info.kind != CertificateKind.CRL
                else x509.load_pem_x509_crl(info.path.read_bytes()).public_bytes(serialization.Encoding.DER)
            ).hexdigest()
        )


def test_service_certificates_work_for_mutual_tls_on_their_segment_only(deployment: Deployment) -> None:
    """A real TLS 1.3 handshake with Python's ssl: both sides verify; a client from another segment is refused."""
    import socket
    import ssl
    import threading

    server = load_service_identity(deployment, instance="kodaira-forwarder", segment_id="lgwan")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(server.cert_path, server.key_path)
    server_ctx.load_verify_locations(server.ca_path)
    server_ctx.verify_mode = ssl.CERT_REQUIRED

    def client_ctx(instance: str, segment_id: str) -> ssl.SSLContext:
        identity = load_service_identity(deployment, instance=instance, segment_id=segment_id)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_cert_chain(identity.cert_path, identity.key_path)
        ctx.load_verify_locations(server.ca_path)  # the client trusts the server's segment CA
        return ctx

    def handshake(ctx: ssl.SSLContext) -> tuple[object, object]:
        seen: dict[str, object] = {}
        with socket.create_server(("127.0.0.1", 0)) as listener:

            def serve() -> None:
                conn, _ = listener.accept()
                try:
                    with server_ctx.wrap_socket(conn, server_side=True) as tls:
                        seen["server"] = peer_identity_from_der(tls.getpeercert(binary_form=True) or b"")
                except (ssl.SSLError, OSError) as exc:
                    seen["server"] = exc

            thread = threading.Thread(target=serve)
            thread.start()
            try:
                with ctx.wrap_socket(
                    socket.create_connection(listener.getsockname()), server_hostname="127.0.0.1"
                ) as tls:
                    seen["client"] = peer_identity_from_der(tls.getpeercert(binary_form=True) or b"")
                    tls.recv(1)  # TLS 1.3 reports a refused client certificate on the first read
            except (ssl.SSLError, OSError) as exc:
                seen.setdefault("client", exc)
            thread.join(timeout=10)
        return seen["client"], seen["server"]

    client_seen, server_seen = handshake(client_ctx("center-1", "lgwan"))
    assert client_seen == (Role.FORWARDER, "kodaira-forwarder", "sample")
    assert server_seen == (Role.CENTER, "center-1", "sample")
    _, refused = handshake(client_ctx("center-1", "dedicated"))  # the center's certificate for another segment
    assert isinstance(refused, ssl.SSLError)
