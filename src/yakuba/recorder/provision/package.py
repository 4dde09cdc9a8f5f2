"""The provision package: clips, a hash manifest signed with the city's document-signing key, a receipt PDF."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import typst
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from yakuba.documents import DocumentSigner, FontSet
from yakuba.recorder.errors import PackageInvalidError

__all__ = [
    "CERT_NAME",
    "CLIP_DIR",
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "RECEIPT_NAME",
    "SIGNATURE_NAME",
    "build_package",
    "file_sha256",
    "render_receipt",
    "verify_package",
    "zip_package",
]

MANIFEST_FORMAT = "yakuba-provision-package/1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
CERT_NAME = "signer.pem"
RECEIPT_NAME = "receipt.pdf"
CLIP_DIR = "clips"
HASH_CHUNK_BYTES = 1 << 20
"""Files are hashed in 1 MiB reads: a 10-minute 1080p clip never sits in memory whole."""
P256_COORDINATE_BYTES = 32

_RECEIPT_TEMPLATE = """
#set page(paper: "a4", margin: 20mm)
#set text(font: "IPAexMincho", size: 10pt, lang: "ja")
#let d = json(bytes(sys.inputs.at("data")))
#align(center, text(font: "IPAexGothic", size: 16pt)[映像記録提供 受領書 / Receipt of footage])
#v(6mm)
#table(columns: (40mm, 1fr), stroke: 0.4pt,
  [依頼番号 Request no.], [#d.request_no],
  [依頼文書番号 Form no.], [#d.form_no],
  [依頼者区分 Requester], [#d.requester_kind],
  [根拠 Legal basis], [#d.legal_basis],
  [決定 Decision], [#d.decision (#d.decided_at)],
  [返却・廃棄期限 Return or destroy by], [#d.return_due],
  [音声 Audio / ぼかし Blurring], [#d.audio / #d.blurred],
)
#v(4mm)
提供ファイル（SHA-256） / Files provided
#table(columns: (1fr, 1fr), stroke: 0.4pt,
  [ファイル File], [実際の範囲 Actual window],
  ..d.clips.map(c => (
    [#c.file], [#c.actual_first – #c.actual_last],
    table.cell(colspan: 2, text(size: 7pt)[SHA-256: #c.sha256]),
  )).flatten()
)
#v(10mm)
上記の映像記録を受領しました。期限までに返却または廃棄し、廃棄した場合は廃棄証明を提出します。\\
I received the footage above and will return or destroy it by the date shown.
#v(12mm)
受領日 Date: #box(width: 40mm, repeat[.]) #h(6mm) 所属・氏名 Name: #box(width: 55mm, repeat[.]) 印
"""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def render_receipt(manifest: Mapping[str, Any], *, fonts: FontSet | None = None) -> bytes:
    """The receipt the recipient signs on collection: what was handed over, its hashes, the return date."""
    fonts = fonts or FontSet.locate()
    data = {
        "request_no": manifest["request_no"],
        "form_no": manifest["form_no"],
        "requester_kind": manifest["requester_kind"],
        "legal_basis": manifest["legal_basis"],
        "decision": manifest["decision"]["decision"],
        "decided_at": manifest["decision"]["decided_at"],
        "return_due": manifest["return_due"] or "-",
        "audio": "あり" if any(c["audio"] for c in manifest["clips"]) else "なし",
        "blurred": "あり" if any(c["blurred"] for c in manifest["clips"]) else "なし",
        "clips": [{k: c[k] for k in ("file", "actual_first", "actual_last", "sha256")} for c in manifest["clips"]],
    }
    source: bytes = _RECEIPT_TEMPLATE.encode("utf-8")
    pdf = typst.compile(  # type: ignore[misc]  # the stub's Input type variable is bound by no argument
        source,
        font_paths=fonts.folders,
        ignore_system_fonts=True,
        sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
    )
    if not isinstance(pdf, bytes):  # pragma: no cover - PDF output is one document
        raise RuntimeError("typst returned no PDF")
    return pdf


def build_package(
    *,
    dest: Path,
    header: Mapping[str, Any],
    clips: Sequence[tuple[Path, Mapping[str, Any]]],
    signer: DocumentSigner,
    fonts: FontSet | None = None,
) -> dict[str, Any]:
    """Write the package folder DEST and return its manifest.

    1. Copy each clip into `clips/` and record its SHA-256 and size next to its windows and source hashes.
    2. Render `receipt.pdf` (what was handed over, the clip hashes, the return date) and list it like a clip.
    3. Write `manifest.json` (canonical JSON: sorted keys, no spaces) and sign its exact bytes with the city's
       document-signing key (ECDSA P-256, raw r||s, base64 in `manifest.sig`); `signer.pem` holds the
       certificate and its chain, verified against the LGPKI root the recipient already trusts.
    """
    dest.mkdir(parents=True, exist_ok=False)
    (dest / CLIP_DIR).mkdir()
    entries: list[dict[str, Any]] = []
    for source, meta in clips:  # step 1
        name = f"{CLIP_DIR}/{source.name}"
        shutil.copyfile(source, dest / name)
        entries.append({**meta, "file": name, "sha256": file_sha256(dest / name), "size": (dest / name).stat().st_size})
    manifest: dict[str, Any] = {**header, "format": MANIFEST_FORMAT, "clips": entries}
    (dest / RECEIPT_NAME).write_bytes(render_receipt(manifest, fonts=fonts))  # step 2
    manifest["receipt"] = {"file": RECEIPT_NAME, "sha256": file_sha256(dest / RECEIPT_NAME)}
    body = _canonical(manifest)  # step 3
    (dest / MANIFEST_NAME).write_bytes(body)
    (dest / SIGNATURE_NAME).write_text(base64.b64encode(signer.sign_summary(body)).decode("ascii") + "\n")
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (signer.certificate, *signer.chain))
    (dest / CERT_NAME).write_bytes(pem)
    return manifest


def zip_package(folder: Path, dest: Path) -> Path:
    """The package folder as one ZIP (stored, not compressed: H.264 does not shrink), entries in sorted order."""
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())
    return dest


class _Package:
    """Read access to a package folder or ZIP by member name; clips are hashed as streams, never loaded whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.archive = zipfile.ZipFile(path) if path.is_file() and zipfile.is_zipfile(path) else None

    def names(self) -> set[str]:
        if self.archive is not None:
            return {i.filename for i in self.archive.infolist() if not i.is_dir()}
        return {p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()}

    def _check(self, name: str) -> None:
        if ".." in Path(name).parts or name.startswith("/") or name not in self.names():
            raise PackageInvalidError(f"{name} is missing from the package")

    def read(self, name: str) -> bytes:
        self._check(name)
        if self.archive is not None:
            return self.archive.read(name)
        return (self.path / name).read_bytes()

    def digest(self, name: str) -> tuple[str, int]:
        self._check(name)
        if self.archive is None:
            return file_sha256(self.path / name), (self.path / name).stat().st_size
        digest, size = hashlib.sha256(), 0
        with self.archive.open(name) as handle:
            while chunk := handle.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def verify_package(package: Path, *, root: x509.Certificate, now: dt.datetime | None = None) -> dict[str, Any]:
    """The verified manifest of a package folder or ZIP; raises PackageInvalidError otherwise.

    1. The signer certificate was issued by the trusted ROOT and is an ECDSA P-256 key (stops a package
       re-signed by anyone else).
    2. The certificate was valid when the package was made (its `created_at`; or NOW if given).
    3. The signature covers the exact bytes of `manifest.json` (stops an edited manifest).
    4. Every listed file exists with its SHA-256 and size (stops a swapped or altered clip), and the package
       holds no file the manifest does not list (stops added material passing as provided).
    """
    if not package.exists():
        raise PackageInvalidError(f"{package} does not exist")
    try:
        opened = _Package(package)
        try:
            return _verify(opened, root=root, now=now)
        finally:
            opened.close()
    except (zipfile.BadZipFile, OSError, KeyError, TypeError) as exc:  # a damaged archive or manifest
        raise PackageInvalidError(f"the package cannot be read: {type(exc).__name__}") from exc


def _verify(package: _Package, *, root: x509.Certificate, now: dt.datetime | None) -> dict[str, Any]:
    read = package.read
    body = read(MANIFEST_NAME)
    try:
        certs = x509.load_pem_x509_certificates(read(CERT_NAME))
        signature = base64.b64decode(read(SIGNATURE_NAME).strip(), validate=True)
        manifest: dict[str, Any] = json.loads(body)
    except ValueError as exc:
        raise PackageInvalidError(f"the package's manifest, signature or certificate is malformed: {exc}") from exc
    signer_cert = certs[0]
    try:  # step 1
        signer_cert.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise PackageInvalidError("the package was not signed by a certificate of the trusted root") from exc
    public = signer_cert.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(public.curve, ec.SECP256R1):
        raise PackageInvalidError("the signer's key is not ECDSA P-256")
    when = now or dt.datetime.fromisoformat(str(manifest.get("created_at")))  # step 2
    if not signer_cert.not_valid_before_utc <= when <= signer_cert.not_valid_after_utc:
        raise PackageInvalidError("the signer's certificate was not valid when the package was made")
    if len(signature) != 2 * P256_COORDINATE_BYTES:  # step 3
        raise PackageInvalidError("the signature has the wrong length")
    r = int.from_bytes(signature[:P256_COORDINATE_BYTES], "big")
    s = int.from_bytes(signature[P256_COORDINATE_BYTES:], "big")
    try:
        public.verify(encode_dss_signature(r, s), body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise PackageInvalidError("the manifest's signature does not verify") from exc
    if manifest.get("format") != MANIFEST_FORMAT:
        raise PackageInvalidError("not a provision package manifest")
    listed = {c["file"]: c for c in manifest["clips"]}  # step 4
    receipt = manifest.get("receipt") or {}
    for name, clip in listed.items():
        if package.digest(name) != (clip["sha256"], clip["size"]):
            raise PackageInvalidError(f"{name} does not match its hash in the manifest")
    if receipt.get("file") != RECEIPT_NAME or package.digest(RECEIPT_NAME)[0] != receipt.get("sha256"):
        raise PackageInvalidError("the receipt does not match its hash in the manifest")
    extra = package.names() - set(listed) - {MANIFEST_NAME, SIGNATURE_NAME, CERT_NAME, RECEIPT_NAME}
    if extra:
        raise PackageInvalidError(f"the package holds files its manifest does not list: {sorted(extra)}")
    return manifest
