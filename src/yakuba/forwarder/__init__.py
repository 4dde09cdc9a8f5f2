"""The city's forwarding server (転送サーバ): routes each request to the issuer of its kind; keeps only counters."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yakuba.forwarder.app import create_app, listen_segment
    from yakuba.forwarder.errors import KindNotOfferedError, WrongCityError
    from yakuba.forwarder.routing import KINDS, SYSTEM_OF_KIND, kinds_of_system
    from yakuba.forwarder.service import ForwarderService, IssuerLink
    from yakuba.forwarder.store import CounterRow, CounterStore

__all__ = [
    "KINDS",
    "SYSTEM_OF_KIND",
    "CounterRow",
    "CounterStore",
    "ForwarderService",
    "IssuerLink",
    "KindNotOfferedError",
    "WrongCityError",
    "create_app",
    "kinds_of_system",
    "listen_segment",
]

# Loaded on first use: the issuer imports the routing table and the errors without the web stack.
_HOME = {
    "create_app": "app",
    "listen_segment": "app",
    "KindNotOfferedError": "errors",
    "WrongCityError": "errors",
    "KINDS": "routing",
    "SYSTEM_OF_KIND": "routing",
    "kinds_of_system": "routing",
    "ForwarderService": "service",
    "IssuerLink": "service",
    "CounterRow": "store",
    "CounterStore": "store",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'yakuba.forwarder' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"yakuba.forwarder.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
