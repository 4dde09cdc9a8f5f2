"""The complete sample deployment that `yakuba init` writes: two cities, three chains, every role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from yakuba.config._loader import CONFIG_FILE_NAME, load_deployment
from yakuba.config._model import Deployment
from yakuba.errors import ConfigError

__all__ = ["BASE_PORT", "SAMPLE_PORTS", "sample_deployment", "write_sample"]

BASE_PORT = 18400
"""First loopback port of the sample; each instance takes the next one."""

_HEADER = """\
# yakuba deployment: every role instance, its loopback address and its database.
# Database URLs: sqlite:///NAME puts the file in state_dir; any of them may be postgresql://...
# Written by `yakuba init`; checked by one loader that rejects unknown keys.
"""


SAMPLE_PORTS = 17
"""Ports the sample takes from its base port: one per role instance, then one per city's operations console."""


def sample_deployment(*, name: str = "sample", base_port: int = BASE_PORT) -> dict[str, Any]:
    """The sample deployment as plain TOML data; its instances listen on BASE_PORT and the ports after it."""
    ports = iter(range(base_port, base_port + SAMPLE_PORTS))

    def svc(instance: str) -> dict[str, Any]:
        return {
            "instance": instance,
            "host": "127.0.0.1",
            "port": next(ports),
            "database": f"sqlite:///{instance}.sqlite3",
        }

    def kiosk(instance: str, location: str) -> dict[str, Any]:
        return {**svc(instance), "location": location}

    def city(code: str, name: str, name_en: str, mayor: str, prefix: str) -> dict[str, Any]:
        return {
            "code": code,
            "name": name,
            "name_en": name_en,
            "prefecture": "東京都",
            "mayor_title": f"{name}長",
            "mayor_name": mayor,
            "registry_database": f"sqlite:///registry-{prefix}.sqlite3",
            "forwarder": svc(f"{prefix}-forwarder"),
            "issuers": [
                {**svc(f"{prefix}-issuer-juki"), "system": "juki"},
                {**svc(f"{prefix}-issuer-koseki"), "system": "koseki"},
            ],
        }

    chains = [
        {
            "id": "midori",
            "name": "みどりマート",
            "kind": "store",
            "hq": svc("midori-hq"),
            "kiosks": [
                kiosk("midori-tanashi-1", "みどりマート 田無駅前店"),
                kiosk("midori-hibarigaoka-1", "みどりマート ひばりヶ丘店"),
            ],
        },
        {
            "id": "aozora",
            "name": "あおぞらストア",
            "kind": "store",
            "hq": svc("aozora-hq"),
            "kiosks": [kiosk("aozora-kodaira-1", "あおぞらストア 小平駅北口店")],
        },
        {
            "id": "nishitokyo-hall",
            "name": "西東京市役所 証明書自動交付",
            "kind": "city_hall",
            "hq": svc("nishitokyo-hall-gw"),
            "kiosks": [kiosk("nishitokyo-hall-1", "西東京市役所 田無庁舎 1階")],
        },
    ]
    sample: dict[str, Any] = {
        "deployment": {"name": name, "state_dir": "state", "key_dir": "state/keys"},
        "center": svc("center-1"),
        "jpki": svc("jpki-1"),
        # Fictional mayors: the sample carries no real person.
        "cities": [
            city("132292", "西東京市", "Nishitokyo", "緑川 一郎", "nishitokyo"),
            city("132110", "小平市", "Kodaira", "青木 花子", "kodaira"),
        ],
        "chains": chains,
    }
    # The consoles take the last ports, so every role instance keeps the port it had before consoles existed.
    for entry, prefix in zip(sample["cities"], ("nishitokyo", "kodaira"), strict=True):
        entry["console"] = {**svc(f"{prefix}-console"), "tls": True}
    return sample


def write_sample(directory: Path, *, name: str = "sample", base_port: int = BASE_PORT) -> Deployment:
    """Write yakuba.toml and the state folder into DIRECTORY; refuse to overwrite a deployment."""
    target = directory / CONFIG_FILE_NAME
    if target.exists():
        raise ConfigError(
            f"{target}: a deployment is already there; choose another folder",
            ja=f"{target}: すでにデプロイメントがあります。別のフォルダを指定してください",
        )
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory}: not a folder", ja=f"{directory}: フォルダではありません")
    text = _HEADER + tomli_w.dumps(sample_deployment(name=name, base_port=base_port))
    directory.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".toml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    dep = load_deployment(target)
    dep.state_dir.mkdir(mode=0o750, exist_ok=True)
    return dep
