"""Relays keep no personal data: scan the store HQs', the center's, JPKI's and the forwarders' files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from yakuba.config import Deployment
from yakuba.council.checks._verdict import Evidence, broken, cannot_tell
from yakuba.errors import YakubaError
from yakuba.registry import RegistryDatabase

__all__ = [
    "MAX_RESIDENTS_SCANNED",
    "MIN_VALUE_CHARS",
    "check_relays_hold_nothing_personal",
    "load_relay_scan",
    "personal_values",
    "relay_files",
]

MIN_VALUE_CHARS = 4
"""Values shorter than this (a two-character name) match by chance in any binary file; they are not searched."""

MAX_RESIDENTS_SCANNED = 200_000
"""Residents read per city for the scan: above the population of any city in a deployment of this size."""


def relay_instances(dep: Deployment) -> list[str]:
    """The relays of the chain: store HQs, the center, the JPKI status service and the forwarders."""
    out = [c.hq.instance for c in dep.chains] + [dep.center.instance, dep.jpki.instance]
    return out + [city.forwarder.instance for city in dep.cities]


def relay_files(dep: Deployment) -> list[Path]:
    """Every file in the state folder that belongs to a relay (databases, their WAL, logs)."""
    instances = relay_instances(dep)
    if not dep.state_dir.is_dir():
        return []
    return sorted(
        path
        for path in dep.state_dir.rglob("*")
        if path.is_file() and any(path.name.startswith(instance) for instance in instances)
    )


def personal_values(dep: Deployment) -> list[str]:
    """Names, numbers and addresses of every resident in the cities' registries (read, never written out)."""
    values: list[str] = []
    for city in dep.cities:
        registry = RegistryDatabase.for_city(dep, city.code)
        try:
            with registry.transaction() as tx:
                for person in tx.find_persons(text="", limit=MAX_RESIDENTS_SCANNED):
                    values += [
                        person.name.family + person.name.given,
                        person.name.family + "　" + person.name.given,
                        person.my_number,
                        person.juminhyo_code,
                        str(person.address),
                    ]
        finally:
            registry.dispose()
    return sorted({v for v in values if v and len(v) >= MIN_VALUE_CHARS})


def _forms(value: str) -> tuple[bytes, bytes]:
    return value.encode("utf-8"), value.encode("utf-16-le")


def check_relays_hold_nothing_personal(*, files: Iterable[Path], values: Iterable[str]) -> Evidence:
    """No relay file holds a resident's name, individual number, resident code or address.

    1. Search each file's bytes for every value, in UTF-8 and UTF-16 (stops a name written to a log or a
       database row by a relay). The values themselves never appear in the evidence: only file and count.
    """
    wanted = [(form, i) for i, v in enumerate(values) for form in _forms(v)]
    paths = list(files)
    if not paths:
        raise cannot_tell(["no relay files found in the state folder"])
    if not wanted:
        raise cannot_tell(["no residents in the registries to search for"])
    failures: list[str] = []
    for path in paths:
        blob = path.read_bytes()
        hits = {i for form, i in wanted if form in blob}
        if hits:
            failures.append(f"{path.name}: {len(hits)} personal values found")
    if failures:
        raise broken(failures)
    return (f"{len(paths)} relay files scanned for {len(wanted) // 2} values: none found",)


def load_relay_scan(dep: Deployment) -> tuple[list[Path], list[str]]:
    """The relay files and the values to search for; CannotTellError when a registry cannot be read."""
    try:
        values = personal_values(dep)
    except YakubaError as exc:
        raise cannot_tell([f"registry not readable: {exc.text_en}"]) from exc
    return relay_files(dep), values
