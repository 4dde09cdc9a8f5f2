"""The store HQ gateway's logic: admit only its own kiosks, tag their requests with the chain, keep billing lines."""

from yakuba.storehq.service._billing import BILLING_TIMEZONE, BillingLine, BillingStatus, Closing, completion_of
from yakuba.storehq.service._gateway import StoreHq
from yakuba.storehq.service._ports import BillingLedger, CenterLink, ChallengeLine, CompletionOutbox

__all__ = [
    "BILLING_TIMEZONE",
    "BillingLedger",
    "BillingLine",
    "BillingStatus",
    "CenterLink",
    "ChallengeLine",
    "Closing",
    "CompletionOutbox",
    "StoreHq",
    "completion_of",
]
