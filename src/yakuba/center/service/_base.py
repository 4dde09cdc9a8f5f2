"""What every step of the center shares: the injected seams, the kiosk check, the clock and worker threads."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from yakuba.center.catalogue import Catalogue
from yakuba.center.errors import KioskNotServedError
from yakuba.center.ports import ChainView, Challenges, Forwarders, SettlementStore, TrustSource
from yakuba.clock import Clock

__all__ = ["CenterBase"]

_T = TypeVar("_T")


class CenterBase:
    """Holds the seams; subclasses add the steps of one area."""

    def __init__(
        self,
        *,
        chains: Iterable[ChainView],
        catalogue: Catalogue,
        challenges: Challenges,
        trust: TrustSource,
        forwarders: Forwarders,
        store: SettlementStore,
        clock: Clock,
    ) -> None:
        self._chains: Mapping[str, ChainView] = {chain.hq_instance: chain for chain in chains}
        self._catalogue = catalogue
        self._challenges = challenges
        self._trust = trust
        self._forwarders = forwarders
        self._store = store
        self._clock = clock

    # -- internals -------------------------------------------------------------------------------------

    def _check_kiosk(self, caller: str, *, kiosk_id: str, chain_id: str | None = None) -> None:
        chain = self._chains.get(caller)
        if chain is None or (chain_id is not None and chain.chain_id != chain_id):
            raise KioskNotServedError("the calling HQ is not the chain named in the request")
        if kiosk_id not in chain.kiosks:
            raise KioskNotServedError()

    def _now(self) -> dt.datetime:
        return self._clock.now()

    @staticmethod
    async def _blocking(work: Callable[..., _T], *args: object, **kwargs: object) -> _T:
        return await asyncio.to_thread(work, *args, **kwargs)
