"""The kiosk (キオスク端末): the resident's flow, the card, the coin box and the printer, and its link to HQ."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yakuba.kiosk.app import create_app, listen_segment
    from yakuba.kiosk.hq_client import HqClient, open_hq_client
    from yakuba.kiosk.service import CoinBox, Kiosk, KioskSession, SpoolPrinter, Step
    from yakuba.kiosk.store import KioskLogStore
    from yakuba.kiosk.terminal import open_kiosk, spool_dir

__all__ = [
    "CoinBox",
    "HqClient",
    "Kiosk",
    "KioskLogStore",
    "KioskSession",
    "SpoolPrinter",
    "Step",
    "create_app",
    "listen_segment",
    "open_hq_client",
    "open_kiosk",
    "spool_dir",
]

# Loaded on first use, so that importing the logic or the errors does not pull in the web framework.
_HOME = {
    "create_app": "app",
    "listen_segment": "app",
    "HqClient": "hq_client",
    "open_hq_client": "hq_client",
    "CoinBox": "service",
    "Kiosk": "service",
    "KioskSession": "service",
    "SpoolPrinter": "service",
    "Step": "service",
    "KioskLogStore": "store",
    "open_kiosk": "terminal",
    "spool_dir": "terminal",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'yakuba.kiosk' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"yakuba.kiosk.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
