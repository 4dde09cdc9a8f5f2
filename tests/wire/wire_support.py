"""Helpers for the wire tests: certificates made to order, a test app."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from yakuba.config import Deployment, Role, segments
from yakuba.errors import EligibilityError
from yakuba.pki import ServiceIdentity, spiffe_uri
from yakuba.wire import allow, build_app, peer_identity

STORE = "store:midori"
HQ = "midori-hq"
KIOSK = "midori-tanashi-1"
OTHER_KIOSK = "midori-hibarigaoka-1"


def segment_stem(dep: Deployment, segment_id: str) -> str:
    return next(s.file_stem for s in segments(dep) if s.id == segment_id)


class CertFactory:
    """Signs service certificates to order with a segment CA of the deployment, for the refusal tests."""

    def __init__(self, dep: Deployment, folder: Path) -> None:
        self.dep = dep
        self.folder = folder

    def ca(self, segment_id: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        stem = segment_stem(self.dep, segment_id)
        cert = x509.load_pem_x509_certificate((self.dep.key_dir / "ca" / f"{stem}.crt").read_bytes())
        key = serialization.load_pem_private_key((self.dep.key_dir / "ca" / f"{stem}.key").read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cert, key

    def issue(
        self,
        *,
        name: str,
        role: Role,
        instance: str,
        segment_id: str = STORE,
        deployment: str | None = None,
        not_after: dt.datetime | None = None,
        ip: str | None = "127.0.0.1",
        dns: str = "localhost",
    ) -> ServiceIdentity:
        ca_cert, ca_key = self.ca(segment_id)
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        end = not_after or now + dt.timedelta(days=1)
        sans: list[x509.GeneralName] = [
            x509.UniformResourceIdentifier(
                spiffe_uri(deployment=deployment or self.dep.deployment.name, role=role.value, instance=instance)
            ),
            x509.DNSName(dns),
        ]
        if ip:
            sans.append(x509.IPAddress(ipaddress.ip_address(ip)))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, instance)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(min(now, end) - dt.timedelta(days=2))
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        cert_path, key_path = self.folder / f"{name}.crt", self.folder / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)
        stem = segment_stem(self.dep, segment_id)
        return ServiceIdentity(
            deployment=self.dep.deployment.name,
            segment_id=segment_id,
            role=role,
            instance=instance,
            cert_path=cert_path,
            key_path=key_path,
            ca_path=self.dep.key_dir / "ca" / f"{stem}.crt",
        )


def cert_der(identity: ServiceIdentity) -> bytes:
    return x509.load_pem_x509_certificate(identity.cert_path.read_bytes()).public_bytes(serialization.Encoding.DER)


def cert_serial(identity: ServiceIdentity) -> int:
    return x509.load_pem_x509_certificate(identity.cert_path.read_bytes()).serial_number


class Echo(BaseModel):
    transaction_id: str
    copies: int


class Hits:
    """What the test app saw: how many requests reached a handler."""

    def __init__(self) -> None:
        self.count = 0


def make_app(hits: Hits | None = None) -> FastAPI:
    """A store-HQ-like app: kiosks may call most routes, one route is for store HQs only."""
    hits = hits or Hits()
    router = APIRouter(prefix="/v1")

    @router.post("/whoami", dependencies=[allow(Role.KIOSK)])
    async def whoami(request: Request) -> dict[str, object]:
        hits.count += 1
        peer = peer_identity(request)
        tls = request.scope["extensions"]["tls"]
        return {
            "role": peer.role.value,
            "instance": peer.instance,
            "deployment": peer.deployment,
            "cert_sha256": hashlib.sha256(tls["client_cert"]).hexdigest(),
            "client_port": request.scope["client"][1],
            "tls_version": tls["tls_version"],
        }

    @router.post("/hq-only", dependencies=[allow(Role.STOREHQ)])
    async def hq_only() -> dict[str, str]:
        hits.count += 1
        return {"ok": "yes"}

    @router.post("/ineligible", dependencies=[allow(Role.KIOSK)])
    async def ineligible() -> dict[str, str]:
        raise EligibilityError()

    @router.post("/boom", dependencies=[allow(Role.KIOSK)])
    async def boom() -> dict[str, str]:
        raise RuntimeError("resident 山田太郎 born 1980-01-01")

    @router.post("/slow", dependencies=[allow(Role.KIOSK)])
    async def slow() -> dict[str, str]:
        await asyncio.sleep(2)
        return {"ok": "late"}

    @router.post("/echo", dependencies=[allow(Role.KIOSK)])
    async def echo(body: Echo) -> dict[str, object]:
        return body.model_dump()

    return build_app(title="test service", routers=[router])
