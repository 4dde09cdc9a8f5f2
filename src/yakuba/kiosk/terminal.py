"""A whole kiosk terminal from the deployment: its link to HQ, its local log, its printer and its document trust."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from yakuba.clock import Clock, SystemClock
from yakuba.config import Deployment
from yakuba.database import make_engine
from yakuba.documents import DocumentTrust
from yakuba.kiosk.hq_client import find_kiosk, open_hq_client
from yakuba.kiosk.service import Kiosk, SpoolPrinter
from yakuba.kiosk.store import KioskLogStore

__all__ = ["open_kiosk", "spool_dir"]


def spool_dir(dep: Deployment, instance: str) -> Path:
    """The kiosk's spool folder: ``<state_dir>/kiosks/<instance>/spool/``."""
    find_kiosk(dep, instance)
    return dep.state_dir / "kiosks" / instance / "spool"


@asynccontextmanager
async def open_kiosk(
    dep: Deployment,
    *,
    instance: str,
    clock: Clock | None = None,
    hq_url: str | None = None,
    jam_copies: frozenset[int] = frozenset(),
    trust: DocumentTrust | None = None,
) -> AsyncIterator[Kiosk]:
    """The kiosk INSTANCE, ready for sessions; its HQ session and database are closed on exit.

    TRUST defaults to the deployment's LGPKI root and city document-signing certificates; JAM_COPIES flips the
    simulated printer's paper-jam switch for those copy numbers.
    """
    _, config = find_kiosk(dep, instance)
    document_trust = trust or DocumentTrust.from_key_dir(dep.key_dir)
    engine = make_engine(dep.database_url(config.database))
    try:
        log = await asyncio.to_thread(KioskLogStore.open, engine=engine)
        printer = SpoolPrinter(spool_dir=spool_dir(dep, instance), jam_copies=jam_copies)
        async with open_hq_client(dep, instance=instance, hq_url=hq_url) as hq:
            yield Kiosk(
                kiosk_id=instance,
                hq=hq,
                printer=printer,
                log=log,
                trust=document_trust,
                clock=clock or SystemClock(),
            )
    finally:
        engine.dispose()
