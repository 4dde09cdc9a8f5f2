"""The run's deployment: the sample's cities, chains and roles, more kiosks, each service behind a fault proxy,
and a clock inside service hours whenever the run starts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from yakuba.clock import SystemClock
from yakuba.config import CONFIG_FILE_NAME, SAMPLE_PORTS, Deployment, Role, load_deployment, sample_deployment
from yakuba.network.ports import free_port_block
from yakuba.network.run_databases import use_databases
from yakuba.network.sample_town import next_open_weekday
from yakuba.pki import init_pki

__all__ = ["RunDeployment", "build_deployment", "service_hours_offset"]

STORE_CHAINS = ("midori", "aozora")
"""The chains the extra kiosks go to (store chains; the city-hall terminal serves its own city only)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunDeployment:
    """The deployment a torture run drives, and where each service's processes really listen."""

    dep: Deployment
    config_path: Path
    listen_ports: dict[str, int]
    """instance -> the port its processes listen on; its configured port is its fault proxy's."""
    clock_offset: dt.timedelta

    @property
    def kiosks(self) -> list[str]:
        return [kiosk.instance for chain, kiosk in self.dep.kiosks() if chain.id in STORE_CHAINS]

    def services(self) -> list[tuple[Role, str, int, int]]:
        """(role, instance, proxy port, listen port) of every service other than the kiosks."""
        return [
            (role, cfg.instance, cfg.port, self.listen_ports[cfg.instance])
            for role, cfg in self.dep.services()
            if role is not Role.KIOSK
        ]


def service_hours_offset(now: dt.datetime | None = None) -> dt.timedelta:
    """How far to move the clock so that it reads 10:00 JST on the next weekday that is no holiday and outside the
    year-end closure: every kind is served then (family registers are weekdays only, holidays excepted), whatever
    the time the run starts. The processes' clocks run on from there, so timeouts, expiries and the run's own
    duration stay real."""
    start = now or SystemClock().now()
    return next_open_weekday(start) - start


def build_deployment(
    folder: Path, *, kiosks: int, name: str = "torture", databases: dict[str, str] | None = None
) -> RunDeployment:
    """Write the sample deployment with KIOSKS store kiosks in all (spread over the store chains) into FOLDER,
    and its PKI; every service gets a second port for its processes behind the proxy. DATABASES gives the center
    and issuers another database URL than their SQLite file (yakuba.network.run_databases)."""
    extra = max(0, kiosks - 3)
    services = SAMPLE_PORTS  # every instance of the sample (and its spare ports)
    base = free_port_block(services + extra + services)
    data: dict[str, Any] = sample_deployment(name=name, base_port=base)
    next_port = base + services
    for index in range(extra):
        chain = next(c for c in data["chains"] if c["id"] == STORE_CHAINS[index % len(STORE_CHAINS)])
        instance = f"{chain['id']}-t{index + 1:03d}"
        chain["kiosks"].append(
            {
                "instance": instance,
                "host": "127.0.0.1",
                "port": next_port,
                "database": f"sqlite:///{instance}.sqlite3",
                "location": f"{chain['name']} 試験店 {index + 1}",
            }
        )
        next_port += 1
    use_databases(data, databases or {})
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / CONFIG_FILE_NAME
    config_path.write_text(
        "# yakuba torture run: the sample deployment with more kiosks (written by `yakuba torture`).\n"
        + tomli_w.dumps(data),
        encoding="utf-8",
    )
    dep = load_deployment(config_path)
    dep.state_dir.mkdir(mode=0o750, exist_ok=True)
    init_pki(dep)
    listen_ports: dict[str, int] = {}
    for role, cfg in dep.services():
        if role is not Role.KIOSK:
            listen_ports[cfg.instance] = next_port
            next_port += 1
    return RunDeployment(
        dep=dep, config_path=config_path, listen_ports=listen_ports, clock_offset=service_hours_offset()
    )
