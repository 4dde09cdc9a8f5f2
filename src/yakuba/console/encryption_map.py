"""The encryption map of the live deployment: every hop probed as its clients connect, with its TLS state, the
certificate in use, what crosses it and who holds which key; the council report's probes and drawing, reused."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ssl
from dataclasses import dataclass

from yakuba.config import CityConfig, Deployment
from yakuba.console.web_tls import WebCertificate
from yakuba.council.checks import PROBE_TIMEOUT, HopProbe, KeyHolder, key_holders, probe_network, what_crosses
from yakuba.council.record import Text

__all__ = ["EncryptionMap", "MapHop", "build_encryption_map"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MapHop:
    """One hop of the map, as a row."""

    segment: str
    client: str
    server: str
    address: str
    tls: str | None
    cipher: str | None
    client_certificate: Text
    server_certificate: str | None
    certificate_issuer: str | None
    crosses: Text
    ok: bool
    problem: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptionMap:
    """The hops (network hops first, then the console's own), the keys, and the diagram as PNG."""

    hops: list[MapHop]
    keys: list[KeyHolder]
    diagram_png: bytes


_MUTUAL = Text(ja="必須（区間CAの証明書）", en="required (segment CA certificate)")


def _network_hop(probe: HopProbe) -> MapHop:
    ok = probe.tls_version is not None and bool(probe.anonymous_refused) and not probe.plain_http
    problem = None
    if not ok:
        problem = "plain HTTP" if probe.plain_http else (probe.error or "a client without a certificate was served")
    return MapHop(
        segment=probe.segment_id,
        client=probe.client,
        server=probe.server,
        address=probe.address,
        tls=probe.tls_version,
        cipher=probe.cipher,
        client_certificate=_MUTUAL,
        server_certificate=probe.server_subject,
        certificate_issuer=probe.server_issuer,
        crosses=what_crosses(probe.segment_id),
        ok=ok and probe.server_issuer == probe.segment_ca,
        problem=problem,
    )


async def _probe_console(city: CityConfig, certificate: WebCertificate | None) -> MapHop:
    """Connect to this console as a browser does (trusting only the city's backbone CA) and note the session."""
    assert city.console is not None
    console = city.console
    crosses = Text(
        ja="職員の画面（件数・ID・状態、証明書の内容なし）、パスワード、検証結果（個人情報なし）",
        en="staff pages (counts, ids, states; no certificate content), passwords, "
        "verification answers (no personal data)",
    )
    base = MapHop(
        segment="console",
        client="browser",
        server=console.instance,
        address=f"{console.host}:{console.port}",
        tls=None,
        cipher=None,
        client_certificate=Text(ja="なし（職員はパスワードでログイン）", en="none (staff log in with a password)"),
        server_certificate=None if certificate is None else certificate.subject,
        certificate_issuer=None if certificate is None else certificate.issuer,
        crosses=crosses,
        ok=False,
    )
    if certificate is None:
        return dataclasses.replace(base, problem="plain HTTP: the console is configured without TLS")
    context = ssl.create_default_context(cafile=str(certificate.ca_path))
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(console.host, console.port, ssl=context, server_hostname=console.host),
            PROBE_TIMEOUT,
        )
    except (OSError, TimeoutError) as exc:
        return dataclasses.replace(base, problem=f"TLS failed ({type(exc).__name__})")
    try:
        tls_object = writer.get_extra_info("ssl_object")
        version = tls_object.version() if tls_object else None
        cipher = tls_object.cipher()[0] if tls_object and tls_object.cipher() else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    return dataclasses.replace(base, tls=version, cipher=cipher, ok=version is not None)


def _console_keys(city: CityConfig, certificate: WebCertificate | None) -> list[KeyHolder]:
    assert city.console is not None
    keys = [
        KeyHolder(
            key=Text(
                ja="職員パスワード（Argon2idハッシュのみ保存）", en="staff passwords (only Argon2id hashes stored)"
            ),
            holder=Text(ja="各職員本人", en="each staff member"),
            protects=Text(ja="運用コンソールへのログイン", en="logging in to the operations console"),
        ),
        KeyHolder(
            key=Text(
                ja="セッショントークン（DBにはSHA-256のみ）", en="session tokens (the database holds SHA-256 only)"
            ),
            holder=Text(
                ja="ログイン中の職員のブラウザ（8時間で失効）", en="the logged-in staff browser (ends after 8 hours)"
            ),
            protects=Text(ja="職員の画面とCSRFトークン", en="the staff pages and their CSRF token"),
        ),
    ]
    if certificate is not None:
        keys.insert(
            0,
            KeyHolder(
                key=Text(ja=f"コンソールTLS鍵（{certificate.subject}）", en=f"console TLS key ({certificate.subject})"),
                holder=Text(
                    ja=f"{city.console.instance}（鍵管理フォルダ）", en=f"{city.console.instance} (key folder)"
                ),
                protects=Text(
                    ja=f"ブラウザとのHTTPS（発行者 {certificate.issuer}、期限 {certificate.not_after:%Y-%m-%d}）",
                    en=f"HTTPS to browsers (issuer {certificate.issuer}, until {certificate.not_after:%Y-%m-%d})",
                ),
            ),
        )
    return keys


async def build_encryption_map(
    dep: Deployment, city: CityConfig, *, certificate: WebCertificate | None, japanese: bool
) -> EncryptionMap:
    """Probe every hop of DEP now (yakuba.council.checks.probe_network) and this console, and draw the map
    (yakuba.council.report.encryption_map_png)."""
    from yakuba.council.report import encryption_map_png  # matplotlib: loaded when a map is first drawn

    probes, console_hop = await asyncio.gather(probe_network(dep), _probe_console(city, certificate))
    diagram = await asyncio.to_thread(encryption_map_png, probes, japanese=japanese)
    return EncryptionMap(
        hops=[*(_network_hop(p) for p in probes), console_hop],
        keys=[*key_holders(dep), *_console_keys(city, certificate)],
        diagram_png=diagram,
    )
