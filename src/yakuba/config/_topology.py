"""The network segments of a deployment: which instances serve and which call on each, each with its own CA.

Like the real separate networks, a certificate from one segment is worthless on another:
- store:<chain>     kiosks -> their chain's HQ (the store network)
- dedicated         store HQs -> the center (the dedicated line)
- jlis              the center -> the JPKI status service (J-LIS internal)
- lgwan             the center -> each city's forwarder (LGWAN)
- backbone:<city>   a city's forwarder -> its issuers (基幹系 / 戸籍系)
"""

from __future__ import annotations

from dataclasses import dataclass

from yakuba.config._model import Deployment, Role

__all__ = ["Member", "Segment", "segments"]


@dataclass(frozen=True, slots=True)
class Member:
    """One role instance on a segment."""

    role: Role
    instance: str


@dataclass(frozen=True, slots=True)
class Segment:
    """A network segment: its id (also its CA's name), a description, who serves and who calls."""

    id: str
    title: str
    servers: tuple[Member, ...]
    clients: tuple[Member, ...]

    @property
    def file_stem(self) -> str:
        """The segment id as a file name."""
        return self.id.replace(":", "-")


def segments(dep: Deployment) -> tuple[Segment, ...]:
    """Every segment of the deployment, in the order a request crosses them."""
    out: list[Segment] = []
    for chain in dep.chains:
        out.append(
            Segment(
                id=f"store:{chain.id}",
                title=f"store network of {chain.id}",
                servers=(Member(Role.STOREHQ, chain.hq.instance),),
                clients=tuple(Member(Role.KIOSK, k.instance) for k in chain.kiosks),
            )
        )
    out.append(
        Segment(
            id="dedicated",
            title="dedicated line, store HQs to the center",
            servers=(Member(Role.CENTER, dep.center.instance),),
            clients=tuple(Member(Role.STOREHQ, c.hq.instance) for c in dep.chains),
        )
    )
    out.append(
        Segment(
            id="jlis",
            title="J-LIS internal, center to JPKI status",
            servers=(Member(Role.JPKI, dep.jpki.instance),),
            clients=(Member(Role.CENTER, dep.center.instance),),
        )
    )
    out.append(
        Segment(
            id="lgwan",
            title="LGWAN, center to the cities' forwarders",
            servers=tuple(Member(Role.FORWARDER, c.forwarder.instance) for c in dep.cities),
            clients=(Member(Role.CENTER, dep.center.instance),),
        )
    )
    for city in dep.cities:
        out.append(
            Segment(
                id=f"backbone:{city.code}",
                title=f"backbone of city {city.code}, forwarder to issuers",
                servers=tuple(Member(Role.ISSUER, i.instance) for i in city.issuers),
                clients=(Member(Role.FORWARDER, city.forwarder.instance),),
            )
        )
    return tuple(out)
