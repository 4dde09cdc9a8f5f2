"""`yakuba verify`: check a certificate PDF, or the QR code on a scan or photo of the paper."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from yakuba.errors import ConfigError, ValidationError

if TYPE_CHECKING:
    from yakuba.documents import DocumentTrust

__all__ = ["verify"]


def _trust(deployment: Path, key_dir: Path | None) -> DocumentTrust:
    from yakuba.config import load_deployment
    from yakuba.documents import DocumentTrust

    if key_dir is not None:
        return DocumentTrust.from_key_dir(key_dir)
    return DocumentTrust.from_key_dir(load_deployment(deployment).key_dir)


def verify(
    file: Annotated[Path, typer.Argument(help="The certificate PDF, or with --image a scan/photo of the paper.")],
    image: Annotated[
        bool, typer.Option("--image", help="FILE is a scan or photo: decode and check its QR code only.")
    ] = False,
    deployment: Annotated[
        Path, typer.Option("--deployment", "-d", help="Deployment folder or yakuba.toml (for its key folder).")
    ] = Path("."),
    key_dir: Annotated[
        Path | None, typer.Option("--key-dir", help="Key folder to trust instead of the deployment's.")
    ] = None,
) -> None:
    """Check a certificate: PDF signature, chain to the LGPKI root, signed QR, and QR against the content."""
    from PIL import Image, UnidentifiedImageError

    from yakuba.documents import verify_document, verify_scan

    # pyHanko logs failed validations with full tracebacks; the one-line error below says it better.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    console = Console(highlight=False)
    if not file.is_file():
        raise ValidationError(f"{file}: no such file", ja=f"{file}: ファイルがありません")
    trust = _trust(deployment, key_dir)
    if image:
        try:
            with Image.open(file) as picture:
                summary = verify_scan(picture, trust=trust)
        except (UnidentifiedImageError, OSError) as exc:
            raise ConfigError(f"{file}: not an image: {exc}") from exc
        console.print(f"[green]QR genuine[/green] serial {summary.serial} city {summary.city_code}")
        console.print(f"  kind {summary.kind.value} ({summary.kind.title_ja}), issued {summary.issued_at.isoformat()}")
        console.print("  the QR is the city's; compare the paper's printed serial and content with it")
        return
    result = verify_document(file.read_bytes(), trust=trust)
    s = result.summary
    console.print(f"[green]certificate genuine[/green] serial {s.serial} city {s.city_code}")
    console.print(
        f"  kind {s.kind.value} ({s.kind.title_ja}), issued {s.issued_at.isoformat()}, {result.pages} page(s)"
    )
    console.print(f"  signed by {result.signer_subject}")
    console.print("  PDF signature valid and covering the whole file; chain to the LGPKI root; QR signed by the city;")
    console.print("  QR digest matches the certified content; every page carries its required elements")
