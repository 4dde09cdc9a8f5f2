"""The live encryption map: connect to every hop as its clients do, and judge mutual TLS and end-to-end sealing."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from yakuba.config import Deployment, Role, Segment, segments
from yakuba.council.checks._verdict import Evidence, broken, cannot_tell
from yakuba.council.record import Text
from yakuba.errors import YakubaError
from yakuba.pki import load_service_identity
from yakuba.wire import client_ssl_context

__all__ = [
    "PROBE_TIMEOUT",
    "HopProbe",
    "KeyHolder",
    "check_mutual_tls",
    "check_sealed_end_to_end",
    "key_holders",
    "probe_network",
    "what_crosses",
]

PROBE_TIMEOUT = 3.0
"""Seconds for one connection attempt and answer: a healthy loopback or LAN hop answers in milliseconds; a hop
that takes longer is reported as unreachable rather than holding up the council's report."""

MAX_ANSWER_BYTES = 4096
"""Bytes read of a health answer; the status line is all the probe needs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HopProbe:
    """What a connection to one server of one segment showed."""

    segment_id: str
    server: str
    server_role: str
    client: str
    address: str
    tls_version: str | None = None
    cipher: str | None = None
    server_subject: str | None = None
    server_issuer: str | None = None
    segment_ca: str | None = None
    health_status: int | None = None
    anonymous_refused: bool | None = None
    plain_http: bool = False
    error: str | None = None
    unreachable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyHolder:
    """Who holds which key, and what it protects."""

    key: Text
    holder: Text
    protects: Text


def what_crosses(segment_id: str) -> Text:
    """What travels over a segment, from the messages of yakuba.wire.messages."""
    if segment_id == "jlis":
        return Text(
            ja="カード証明書の失効確認（シリアル番号のみ）",
            en="card-certificate status queries (serial numbers only)",
        )
    return Text(
        ja="署名付き交付要求（種類・市区町村・端末の一時公開鍵、氏名なし）／封緘済み証明書（HPKE、中継は読めない）",
        en="card-signed requests (kind, city, kiosk's one-time public key; no name) / sealed certificate "
        "(HPKE envelope the relays cannot open)",
    )


def key_holders(dep: Deployment) -> list[KeyHolder]:
    """The keys of the issuance network and who holds each."""
    issuers = ", ".join(i.instance for c in dep.cities for i in c.issuers)
    holders = [
        KeyHolder(
            key=Text(ja="取引ごとの一時鍵（X25519）", en="one-time transaction key (X25519)"),
            holder=Text(ja="要求したキオスク端末のみ（メモリ内、取引後に消去）", en="the asking kiosk only, in memory"),
            protects=Text(ja="証明書PDFの封緘を開く", en="opens the sealed certificate PDF"),
        ),
        KeyHolder(
            key=Text(ja="文書署名鍵", en="document-signing key"),
            holder=Text(ja=f"証明発行サーバ（{issuers}）", en=f"issuance servers ({issuers})"),
            protects=Text(ja="証明書PDFの電子署名（改ざん検知）", en="signs the certificate PDF (tamper evidence)"),
        ),
    ]
    for seg in segments(dep):
        holders.append(
            KeyHolder(
                key=Text(ja=f"区間CA {seg.id}", en=f"segment CA {seg.id}"),
                holder=Text(ja="鍵管理フォルダ（運用者）", en="the key folder (operators)"),
                protects=Text(
                    ja=f"{seg.id} の相互TLS証明書を発行", en=f"issues the mutual-TLS certificates of {seg.id}"
                ),
            )
        )
    return holders


async def probe_network(dep: Deployment) -> list[HopProbe]:
    """Connect to every server of every segment, as its first client, and record what the connection showed."""
    jobs = [_probe_hop(dep, seg, server.instance, server.role) for seg in segments(dep) for server in seg.servers]
    return list(await asyncio.gather(*jobs))


def _address(dep: Deployment, instance: str) -> tuple[str, int]:
    for _role, cfg in dep.services():
        if cfg.instance == instance:
            return cfg.host, cfg.port
    raise KeyError(instance)


async def _probe_hop(dep: Deployment, seg: Segment, server: str, role: Role) -> HopProbe:
    """Probe one hop.

    1. Handshake with the segment client's own identity, trusting only the segment CA and insisting on the
       server's role; note protocol, cipher, server subject and issuer; ask GET /v1/health.
    2. If that handshake fails, try plain HTTP on the same port (stops a hop silently switched to plain text
       being reported as merely broken).
    3. Connect again with no client certificate and ask again: the server must refuse (stops anonymous callers).
    """
    host, port = _address(dep, server)
    client = seg.clients[0].instance
    base = HopProbe(segment_id=seg.id, server=server, server_role=role.value, client=client, address=f"{host}:{port}")
    try:
        identity = load_service_identity(dep, instance=client, segment_id=seg.id)
        ctx = client_ssl_context(identity, expected_role=role)
        ca_subject = _subject(identity.ca_path)
    except YakubaError as exc:
        return _replace(base, error=f"no client identity: {exc.text_en}", unreachable=True)
    # Step 1
    try:
        status, ssl_object = await _get_health(host, port, ctx)
    except (ConnectionRefusedError, TimeoutError, OSError) as exc:
        if not isinstance(exc, ssl.SSLError) and not isinstance(exc, ConnectionResetError):
            return _replace(base, segment_ca=ca_subject, error=f"unreachable ({type(exc).__name__})", unreachable=True)
        # Step 2
        plain = await _answers_plain_http(host, port)
        return _replace(base, segment_ca=ca_subject, plain_http=plain, error=f"TLS failed ({type(exc).__name__})")
    version, cipher, subject, issuer = _session_facts(ssl_object)
    # Step 3
    anonymous = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    anonymous.load_verify_locations(cafile=identity.ca_path)
    anonymous.check_hostname = False
    try:
        anon_status, _ = await _get_health(host, port, anonymous)
        refused = anon_status is None
    except (OSError, TimeoutError):
        refused = True
    return _replace(
        base,
        tls_version=version,
        cipher=cipher,
        server_subject=subject,
        server_issuer=issuer,
        segment_ca=ca_subject,
        health_status=status,
        anonymous_refused=refused,
    )


def _replace(probe: HopProbe, **changes: object) -> HopProbe:
    import dataclasses

    return dataclasses.replace(probe, **changes)  # type: ignore[arg-type]


def _subject(cert_path: Path) -> str:
    return x509.load_pem_x509_certificate(cert_path.read_bytes()).subject.rfc4514_string()


async def _get_health(host: str, port: int, ctx: ssl.SSLContext) -> tuple[int | None, ssl.SSLObject | None]:
    """GET /v1/health over TLS with CTX: the status (None when the server hung up) and the TLS object."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ctx, server_hostname=host), PROBE_TIMEOUT
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        writer.write(f"GET /v1/health HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.read(MAX_ANSWER_BYTES), PROBE_TIMEOUT)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    return _status(head), ssl_object


async def _answers_plain_http(host: str, port: int) -> bool:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), PROBE_TIMEOUT)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(f"GET /v1/health HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.read(MAX_ANSWER_BYTES), PROBE_TIMEOUT)
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return _status(head) is not None


def _status(head: bytes) -> int | None:
    parts = head.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def _session_facts(ssl_object: ssl.SSLObject | None) -> tuple[str | None, str | None, str | None, str | None]:
    if ssl_object is None:
        return None, None, None, None
    der = ssl_object.getpeercert(binary_form=True)
    cipher = ssl_object.cipher()
    cert = x509.load_der_x509_certificate(der) if der else None
    return (
        ssl_object.version(),
        cipher[0] if cipher else None,
        cert.subject.rfc4514_string() if cert else None,
        cert.issuer.rfc4514_string() if cert else None,
    )


def check_mutual_tls(probes: list[HopProbe]) -> Evidence:
    """Every hop is mutually authenticated TLS: raises ConditionBrokenError, or CannotTellError when a hop is down.

    1. The hop answered a TLS handshake made with the segment client's identity (not plain HTTP).
    2. Its certificate was issued by the segment's own CA (stops a certificate from another network).
    3. It answered the authenticated health request.
    4. It refused the same request from a client with no certificate (stops anonymous callers).
    """
    if not probes:
        raise cannot_tell(["the deployment has no hops to probe"])
    failures: list[str] = []
    unknown: list[str] = []
    lines: list[str] = []
    for p in probes:
        where = f"{p.segment_id} {p.client} -> {p.server} ({p.address})"
        if p.unreachable:
            unknown.append(f"{where}: {p.error}")
        elif p.plain_http:  # step 1
            failures.append(f"{where}: answers plain HTTP, no TLS")
        elif p.tls_version is None:
            failures.append(f"{where}: {p.error or 'no TLS session'}")
        elif p.server_issuer != p.segment_ca:  # step 2
            failures.append(f"{where}: server certificate issued by {p.server_issuer}, not the segment CA")
        elif p.health_status != 200:  # step 3
            failures.append(f"{where}: authenticated health request answered {p.health_status}")
        elif not p.anonymous_refused:  # step 4
            failures.append(f"{where}: a client without a certificate was served")
        else:
            lines.append(f"{where}: {p.tls_version} {p.cipher}, client certificate required, issuer {p.segment_ca}")
    if failures:
        raise broken(failures + unknown)
    if unknown:
        raise cannot_tell(unknown)
    return tuple(lines)


PDF_MAGIC = b"%PDF-"
"""A PDF begins with these bytes; sealed envelopes never show them."""


def check_sealed_end_to_end(*, relay_files: list[Path], answer_fields: dict[str, tuple[str, ...]]) -> Evidence:
    """Every certificate payload is sealed end to end: raises ConditionBrokenError otherwise.

    1. The answers relays pass back carry the document only as HPKE envelopes (stops a plaintext field being
       added to a message and crossing every relay).
    2. No relay holds a PDF in its files (stops a relay keeping an opened or unsealed document).
    """
    failures: list[str] = []
    lines: list[str] = []
    for message, fields in sorted(answer_fields.items()):  # step 1
        carrying = [f for f in fields if "pdf" in f.lower() or f.lower() in {"document", "content", "payload"}]
        if carrying:
            failures.append(f"{message} carries {', '.join(carrying)} outside an envelope")
        else:
            lines.append(f"{message}: document only as {', '.join(f for f in fields if 'envelope' in f) or '-'}")
    if not relay_files:
        raise cannot_tell(["no relay files found to scan"])
    for path in relay_files:  # step 2
        if PDF_MAGIC in path.read_bytes():
            failures.append(f"{path.name}: holds a PDF")
    lines.append(f"{len(relay_files)} relay files scanned: no PDF")
    if failures:
        raise broken(failures)
    return tuple(lines)
