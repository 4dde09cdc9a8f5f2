"""The ceiling: the issuer's document work alone, in this machine's processes, with nothing else running.

Render, check and sign one 住民票の写し with the deployment's city key (the issuer's DocumentPress: one reused
RenderEngine and DocumentSigner per process), then seal it to a fresh transaction key, as the issuer does; one
worker process per core, flat out, for a fixed time.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Ceiling", "measure_ceiling"]

_STATE: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Ceiling:
    workers: int
    documents: int
    seconds: float
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_document(self) -> float:
        return 1000 * self.cpu_seconds / self.documents if self.documents else 0.0


def _init(config_path: str, city_code: str) -> None:
    from yakuba.config import load_deployment
    from yakuba.documents import DocumentSigner, RenderEngine
    from yakuba.issuer.ports import DocumentPress

    dep = load_deployment(Path(config_path))
    city = dep.city(city_code)
    _STATE["city"] = city
    _STATE["press"] = DocumentPress(
        engine=RenderEngine.create(), signer=DocumentSigner.from_key_dir(dep.key_dir, city.code)
    )
    _work(0.0, 1_000_000 + os.getpid() % 1000)  # warm-up: the first render loads fonts and templates


def _request(seed: int) -> Any:
    from yakuba.clock import JST
    from yakuba.documents import DocumentHeader, DocumentKind, DocumentRequest, ResidentRecordOptions, sample_request

    city = _STATE["city"]
    sample = sample_request(
        DocumentKind.RESIDENT_RECORD, seed=seed, options=ResidentRecordOptions(show_relationship=False)
    )
    header = DocumentHeader.for_city(
        city_code=city.code,
        city_name=city.name,
        mayor_title=city.mayor_title,
        mayor_name=city.mayor_name,
        kind=DocumentKind.RESIDENT_RECORD,
        serial=f"BNCH-{seed % 100_000_000:08d}",
        issued_at=dt.datetime.now(JST),
    )
    return DocumentRequest(header=header, content=sample.content)


def _work(seconds: float, seed: int) -> tuple[int, float]:
    """Issue and seal documents for SECONDS (at least one); the count and this process's CPU seconds."""
    from yakuba.wire.sealing import SealingBinding, TransactionKey, seal

    press = _STATE["press"]
    cpu0 = time.process_time()
    deadline = time.perf_counter() + seconds
    count = 0
    while count == 0 or time.perf_counter() < deadline:
        issued = press.issue(_request(seed + count))
        recipient = TransactionKey.generate()
        binding = SealingBinding(
            transaction_id=f"tx-{count:032x}",
            card_fingerprint="0" * 64,
            request_digest=bytes(32),
            purpose="certificate",
        )
        seal(issued.pdf, recipient_public=recipient.public_bytes(), binding=binding)
        count += 1
    return count, time.process_time() - cpu0


def measure_ceiling(config_path: Path, city_code: str, *, seconds: float, workers: int | None = None) -> Ceiling:
    """Documents per second on WORKERS processes (default: one per core) for SECONDS, after a warm-up."""
    count = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=count, initializer=_init, initargs=(str(config_path), city_code)) as pool:
        list(pool.map(_work, [0.0] * count, range(count)))  # every worker started and warm
        began = time.perf_counter()
        results = list(pool.map(_work, [seconds] * count, [i * 10_000_000 for i in range(count)]))
        elapsed = time.perf_counter() - began
    return Ceiling(
        workers=count,
        documents=sum(n for n, _ in results),
        seconds=elapsed,
        cpu_seconds=sum(cpu for _, cpu in results),
    )
