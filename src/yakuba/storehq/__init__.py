"""The store HQ gateway (コンビニ本部): admits its own kiosks, relays to the center tagged with its chain, bills."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yakuba.storehq.app import create_app, listen_segment
    from yakuba.storehq.delivery import count_unreported, wait_until_reported
    from yakuba.storehq.service import BillingLine, BillingStatus, StoreHq
    from yakuba.storehq.store import BillingStore

__all__ = [
    "BillingLine",
    "BillingStatus",
    "BillingStore",
    "StoreHq",
    "count_unreported",
    "create_app",
    "listen_segment",
    "wait_until_reported",
]

# Loaded on first use, so that importing the logic or the errors does not pull in the web framework.
_HOME = {
    "create_app": "app",
    "listen_segment": "app",
    "BillingLine": "service",
    "BillingStatus": "service",
    "StoreHq": "service",
    "BillingStore": "store",
    "count_unreported": "delivery",
    "wait_until_reported": "delivery",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'yakuba.storehq' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"yakuba.storehq.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
