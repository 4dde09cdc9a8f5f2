"""The one-time challenges a kiosk asks for before the card signs, alone or in batches."""

from __future__ import annotations

from pydantic import Field

from yakuba.wire.messages._fields import B64, InstanceId, _Message

__all__ = [
    "MAX_CHALLENGE_BATCH",
    "ChallengeAnswer",
    "ChallengeAsk",
    "ChallengeBatchAnswer",
    "ChallengeBatchAsk",
]


class ChallengeAsk(_Message):
    """HQ -> center: a challenge for one of its kiosks (the kiosk's own call to HQ has an empty body)."""

    kiosk_id: InstanceId


class ChallengeAnswer(_Message):
    """A one-time challenge (single use, CHALLENGE_TTL) for one kiosk."""

    challenge: B64
    expires_at: str


MAX_CHALLENGE_BATCH = 64
"""Challenges asked for at once: the asks of one HQ's kiosks that arrived while its previous ask was on the
line (the HQ never asks for a challenge no kiosk asked for: nothing is issued ahead of need)."""


class ChallengeBatchAsk(_Message):
    """HQ -> center: challenges for several of its kiosks at once, one per entry (a kiosk may appear more than
    once: two residents at one kiosk in a moment is impossible, but a kiosk's retry after a lost answer is not)."""

    kiosk_ids: list[InstanceId] = Field(min_length=1, max_length=MAX_CHALLENGE_BATCH)


class ChallengeBatchAnswer(_Message):
    """One challenge per entry of the ask, in its order, each bound to that entry's kiosk."""

    challenges: list[ChallengeAnswer] = Field(min_length=1, max_length=MAX_CHALLENGE_BATCH)
