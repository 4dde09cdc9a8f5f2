"""The fleet: garbage trucks, their recorders and the staff who may (or may not) touch footage."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

__all__ = [
    "FITTED_VEHICLES",
    "FLEET_SIZE",
    "VIEWING_ROLES",
    "Fleet",
    "RecorderUnit",
    "Staff",
    "StaffRole",
    "Vehicle",
    "sample_fleet",
]

FLEET_SIZE = 29
"""The city runs 29 garbage trucks of its own (domain notes, part 2)."""

FITTED_VEHICLES = 15
"""Recorders are fitted to the 15 trucks that drive the most."""


class StaffRole(enum.StrEnum):
    """What a member of staff is to the footage."""

    DRIVER = "driver"  # drives; never views footage
    SUPERVISOR = "supervisor"
    RECORDS_OFFICER = "records_officer"
    SECTION_CHIEF = "section_chief"  # 課長: decides provision, releases holds
    AUDITOR = "auditor"  # reads the audit log, not the footage


VIEWING_ROLES = frozenset({StaffRole.SUPERVISOR, StaffRole.RECORDS_OFFICER, StaffRole.SECTION_CHIEF})
"""Roles that may view footage after an incident; drivers and auditors may not (council condition)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Vehicle:
    vehicle_id: str
    plate_ref: str  # the depot's fleet number painted on the truck, not the licence plate
    depot: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecorderUnit:
    serial: str
    vehicle_id: str
    model: str
    mounting: str
    camera_angle_deg: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Staff:
    staff_id: str
    role: StaffRole


@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    vehicles: tuple[Vehicle, ...]
    recorders: tuple[RecorderUnit, ...]
    staff: tuple[Staff, ...]
    cards: tuple[tuple[str, int], ...]  # (card id, capacity in bytes)


_MODELS = (("DRV-320", "windscreen, behind mirror", 140), ("KD-G7", "dashboard, centre", 160))
_DEPOTS = ("north", "south")
_CARD_BYTES = 32 * 1024**3
_STAFF_PLAN = (
    (StaffRole.DRIVER, 30),
    (StaffRole.SUPERVISOR, 3),
    (StaffRole.RECORDS_OFFICER, 2),
    (StaffRole.SECTION_CHIEF, 1),
    (StaffRole.AUDITOR, 1),
)
_STAFF_PREFIX = {
    StaffRole.DRIVER: "drv",
    StaffRole.SUPERVISOR: "sup",
    StaffRole.RECORDS_OFFICER: "rec",
    StaffRole.SECTION_CHIEF: "chief",
    StaffRole.AUDITOR: "aud",
}


def sample_fleet(*, seed: int = 8) -> Fleet:
    """The sample deployment's fleet: 29 trucks, 15 fitted with a recorder and a card, one spare card each
    for half of them, and staff in every role. Deterministic for SEED; staff are opaque ids, never names."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, deterministic by design
    vehicles = tuple(
        Vehicle(vehicle_id=f"T{n:02d}", plate_ref=f"清掃{n:02d}号車", depot=_DEPOTS[n % 2])
        for n in range(1, FLEET_SIZE + 1)
    )
    recorders: list[RecorderUnit] = []
    cards: list[tuple[str, int]] = []
    for vehicle in vehicles[:FITTED_VEHICLES]:
        model, mounting, angle = _MODELS[rng.randrange(len(_MODELS))]
        recorders.append(
            RecorderUnit(
                serial=f"{model[:2]}{rng.randrange(10**7):07d}",
                vehicle_id=vehicle.vehicle_id,
                model=model,
                mounting=mounting,
                camera_angle_deg=angle,
            )
        )
        cards.append((f"SD-{vehicle.vehicle_id}-A", _CARD_BYTES))
    cards += [(f"SD-SPARE-{n:02d}", _CARD_BYTES) for n in range(1, 8)]
    staff = tuple(
        Staff(staff_id=f"{_STAFF_PREFIX[role]}{n:02d}", role=role)
        for role, count in _STAFF_PLAN
        for n in range(1, count + 1)
    )
    return Fleet(vehicles=vehicles, recorders=tuple(recorders), staff=staff, cards=tuple(cards))
