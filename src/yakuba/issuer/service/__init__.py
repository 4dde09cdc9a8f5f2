"""The certificate issuer's logic: verify the card again, decide eligibility, render, seal, log; no HTTP, no ORM."""

from __future__ import annotations

from yakuba.issuer.service._base import (
    CITY_ALLOWS_INDIVIDUAL_NUMBER,
    INTERRUPTED,
    INTERRUPTED_AFTER,
    RENDER_FAILED,
    SEALING_PURPOSE,
)
from yakuba.issuer.service._completion import CompletionSteps
from yakuba.issuer.service._history import HistorySteps
from yakuba.issuer.service._issuance import IssuanceSteps

__all__ = [
    "CITY_ALLOWS_INDIVIDUAL_NUMBER",
    "INTERRUPTED",
    "INTERRUPTED_AFTER",
    "RENDER_FAILED",
    "SEALING_PURPOSE",
    "IssuerService",
]


class IssuerService(IssuanceSteps, CompletionSteps, HistorySteps):
    """One city system's issuance server: RoutedSubmission in, sealed IssuanceAnswer out.

    Build it with `yakuba.issuer.app.build_service` (from the deployment) or directly with its seams.
    Every call is independent: nothing mutable is shared between requests except the log (a database,
    keyed by transaction id) and the document press (behind its lock), so concurrent requests never see
    each other's data.
    """
