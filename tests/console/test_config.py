"""Each city's console section in the deployment: its own address and database, written by the sample."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from yakuba.config import SAMPLE_PORTS, load_deployment, sample_deployment, write_sample
from yakuba.errors import ConfigError


def test_the_sample_gives_each_city_a_console_on_the_last_ports(tmp_path: Path) -> None:
    dep = write_sample(tmp_path / "d", base_port=30000)
    consoles = [city.console for city in dep.cities]
    assert all(c is not None and c.tls for c in consoles)
    ports = sorted(c.port for c in consoles if c is not None)
    assert ports == [30000 + SAMPLE_PORTS - 2, 30000 + SAMPLE_PORTS - 1]
    services = {svc.port for _role, svc in dep.services()}
    assert services.isdisjoint(ports)
    assert max(services) < min(ports)  # the role instances keep the ports they had before consoles


def test_a_console_on_a_port_another_instance_uses_is_refused(tmp_path: Path) -> None:
    data = sample_deployment(base_port=30000)
    data["cities"][0]["console"]["port"] = data["center"]["port"]
    path = tmp_path / "yakuba.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="used twice"):
        load_deployment(path)


def test_a_city_without_a_console_section_loads(tmp_path: Path) -> None:
    data = sample_deployment(base_port=30000)
    del data["cities"][1]["console"]
    path = tmp_path / "yakuba.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    dep = load_deployment(path)
    assert dep.cities[1].console is None
