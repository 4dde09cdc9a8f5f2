"""The service class: the issuance center built from its seams or from a deployment."""

from __future__ import annotations

from yakuba.center.catalogue import Catalogue
from yakuba.center.ports import ChainView, Challenges, Forwarders, SettlementStore, TrustSource
from yakuba.center.service._completion import CompletionSteps
from yakuba.center.service._issuance import IssuanceSteps
from yakuba.clock import Clock
from yakuba.config import Deployment

__all__ = ["CenterService"]


class CenterService(IssuanceSteps, CompletionSteps):
    """The issuance center (証明書交付センター): checks each request, routes it to its city, settles it.

    Blocking database work runs in worker threads, so one slow SQLite lock never stalls other requests.
    """

    @classmethod
    def from_deployment(
        cls,
        dep: Deployment,
        *,
        catalogue: Catalogue | None = None,
        challenges: Challenges,
        trust: TrustSource,
        forwarders: Forwarders,
        store: SettlementStore,
        clock: Clock,
    ) -> CenterService:
        """The center for DEP's chains, with the sample catalogue of DEP's cities unless one is given."""
        chains = [
            ChainView(chain_id=c.id, hq_instance=c.hq.instance, kiosks=frozenset(k.instance for k in c.kiosks))
            for c in dep.chains
        ]
        return cls(
            chains=chains,
            catalogue=catalogue or Catalogue.for_cities(city.code for city in dep.cities),
            challenges=challenges,
            trust=trust,
            forwarders=forwarders,
            store=store,
            clock=clock,
        )

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue
