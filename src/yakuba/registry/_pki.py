"""The registry's side of the PKI: revoke card certificates on the CRL, and enrol a resident's new card."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.errors import YakubaError
from yakuba.registry.service import LifeEvents

__all__ = ["ONE_TIME_PIN_DIGITS", "REVOCATION_REASON_MAP", "EnrolledCard", "PkiCardRevoker", "enrol_resident_card"]

REVOCATION_REASON_MAP = {
    "address_changed": "affiliationChanged",
    "moved_out": "affiliationChanged",
    "name_changed": "superseded",
    "superseded": "superseded",
    "deceased": "cessationOfOperation",
    "lost": "keyCompromise",
    "holder_request": "cessationOfOperation",
}
"""Registry reasons -> RFC 5280 reasons on the CRL (an address or name change lapses the certificate)."""

ONE_TIME_PIN_DIGITS = 4
"""The card's PIN is 4 digits; the counter prints a random one the resident changes at first use."""


class PkiCardRevoker:
    """CardRevoker that publishes the revocation on the deployment's CRL (`yakuba.pki.revoke_card`)."""

    def __init__(self, *, dep: Deployment, clock: Clock) -> None:
        self._dep = dep
        self._clock = clock

    def revoke(self, serial: str, reason: str) -> None:
        from yakuba.pki import revoke_card

        revoke_card(self._dep, serial, REVOCATION_REASON_MAP.get(reason, "unspecified"), clock=self._clock)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolledCard:
    """A card made at the counter: where its file is, its serial, and the one-time PIN to hand over."""

    serial: str
    fingerprint: str
    path: Path
    one_time_pin: str


def enrol_resident_card(
    dep: Deployment, events: LifeEvents, *, city_code: str, person_id: int, path: Path, clock: Clock
) -> EnrolledCard:
    """The counter's job, steps in order:

    1. check that the person may hold a card here (exists, still resident): nothing is made for a refusal;
    2. make the card and its certificate in the PKI with a random one-time PIN;
    3. bind serial -> person in this city's registry (any earlier card is revoked there);
       if the binding fails, the new certificate is revoked and the file removed, so no unbound card exists.
    """
    from yakuba.pki.card import enrol_card

    events.check_can_hold_card(person_id=person_id)  # step 1
    pin = "".join(secrets.choice("0123456789") for _ in range(ONE_TIME_PIN_DIGITS))
    info = enrol_card(dep, city_code=city_code, pin=pin, path=path, clock=clock)  # step 2
    try:
        events.issue_card(person_id=person_id, serial=info.serial, fingerprint=info.fingerprint)  # step 3
    except YakubaError:
        PkiCardRevoker(dep=dep, clock=clock).revoke(info.serial, "superseded")
        path.unlink(missing_ok=True)
        raise
    return EnrolledCard(serial=info.serial, fingerprint=info.fingerprint, path=path, one_time_pin=pin)
