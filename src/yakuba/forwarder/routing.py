"""Which of a city's back-office systems holds each certificate kind: the forwarder's routing table, as data."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

__all__ = ["KINDS", "SYSTEM_OF_KIND", "System", "kinds_of_system"]

System = Literal["juki", "koseki"]
"""A city's issuer systems, as `IssuerConfig.system` names them."""

SYSTEM_OF_KIND: Mapping[str, System] = MappingProxyType(
    {
        "juminhyo": "juki",
        "juminhyo-kisai": "juki",
        "inkan": "juki",
        "kazei": "juki",
        "shotoku": "juki",
        "koseki-zenbu": "koseki",
        "koseki-kojin": "koseki",
        "fuhyo": "koseki",
    }
)
"""Certificate kind (a `yakuba.documents.DocumentKind` value) -> the system whose issuer holds its data.

Why this split: a city keeps the residence register (住民基本台帳), seal registrations and resident tax in
its core system (基幹系, "juki"), and the family register (戸籍) with its address history (戸籍の附票) in a
separate family-register system (戸籍系, "koseki") run under the Ministry of Justice's rules. Each system
has its own issuance server, so the forwarder sends a request to the one that holds the data: the residence
and tax certificates to juki, the three family-register certificates to koseki. The 附票 is kept with the
register it belongs to (it is keyed by 本籍, not by the residence record), hence koseki.

Plain strings rather than DocumentKind so that the forwarder, which never renders anything, does not load
the document pipeline; the issuer's tests check that the keys are exactly the DocumentKind values.
"""

KINDS: frozenset[str] = frozenset(SYSTEM_OF_KIND)
"""Every kind a kiosk may ask for."""


def kinds_of_system(system: str) -> frozenset[str]:
    """The kinds the issuer of SYSTEM serves."""
    return frozenset(kind for kind, owner in SYSTEM_OF_KIND.items() if owner == system)
