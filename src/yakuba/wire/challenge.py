"""One-time challenges the card signs: random, short-lived, single use, shared by every process through the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    update,
)

from yakuba.clock import Clock
from yakuba.database import UtcDateTime, in_transaction, lock_schema
from yakuba.errors import ValidationError, VerificationError

__all__ = ["CHALLENGE_BYTES", "CHALLENGE_TTL", "Challenge", "ChallengeStore", "challenges_table"]

CHALLENGE_TTL = dt.timedelta(seconds=120)
"""Two minutes: enough for a person to insert the card and type the PIN at the kiosk, short enough that a
captured challenge is worthless soon after (limits replay of a signed request to one short window)."""

CHALLENGE_BYTES = 32
"""256 bits from the CSPRNG: unguessable, and never repeated by chance across the whole country."""

_INSTANCE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_T = TypeVar("_T")


_metadata = MetaData()

challenges_table = Table(
    "challenges",
    _metadata,
    # Only the hash is kept: a database reader cannot present a live challenge.
    Column("value_hash", LargeBinary(32), primary_key=True),
    # The kiosk instance id: a device, never a person.
    Column("issued_to", String(63), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
    Column("used_at", UtcDateTime(), nullable=True),
)
"""The shared table: one row per challenge, so several processes and machines agree on single use."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Challenge:
    """A challenge as issued to one kiosk."""

    value: bytes
    issued_to: str
    issued_at: dt.datetime
    expires_at: dt.datetime

    def __repr__(self) -> str:
        # The value is a live credential until used: keep it out of reprs and logs.
        return f"Challenge(issued_to={self.issued_to!r}, expires_at={self.expires_at.isoformat()})"


class ChallengeStore:
    """Issues and consumes one-time challenges in the `challenges` table of ENGINE, with time from CLOCK."""

    def __init__(self, *, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    @classmethod
    def open(cls, *, engine: Engine, clock: Clock) -> ChallengeStore:
        """A store whose table exists (created if missing)."""
        store = cls(engine=engine, clock=clock)
        store.create_tables()
        return store

    def create_tables(self) -> None:
        """Create the challenges table if it does not exist yet."""

        def create(conn: Connection) -> None:
            lock_schema(conn)  # workers of one center start at once on one database
            _metadata.create_all(conn, checkfirst=True)

        self._run(create)

    def issue(self, for_instance: str) -> Challenge:
        """A fresh challenge for the kiosk FOR_INSTANCE, valid for CHALLENGE_TTL (a batch of one)."""
        return self.issue_many([for_instance])[0]

    def issue_many(self, for_instances: Sequence[str]) -> list[Challenge]:
        """A fresh challenge for each kiosk of FOR_INSTANCES, in order, all valid for CHALLENGE_TTL.

        Every row is inserted in ONE transaction (one commit however many kiosks asked at once). Each challenge
        is bound to its own entry's kiosk and is single use exactly as one issued alone; a kiosk named twice
        gets two different challenges. An id that is malformed refuses the whole call before anything is
        written (ValidationError), and so does an empty list (asking for nothing is a caller's bug).
        """
        if not for_instances:
            raise ValidationError("no kiosk to issue a challenge for")
        for instance in for_instances:
            _check_instance(instance)
        now = self._clock.now()
        challenges = [
            Challenge(
                value=secrets.token_bytes(CHALLENGE_BYTES),
                issued_to=instance,
                issued_at=now,
                expires_at=now + CHALLENGE_TTL,
            )
            for instance in for_instances
        ]
        rows = [
            {
                "value_hash": _hash(challenge.value),
                "issued_to": challenge.issued_to,
                "issued_at": challenge.issued_at,
                "expires_at": challenge.expires_at,
                "used_at": None,
            }
            for challenge in challenges
        ]
        self._run(lambda conn: conn.execute(insert(challenges_table), rows).rowcount)
        return challenges

    def consume(self, value: bytes, for_instance: str) -> None:
        """Use up the challenge VALUE presented by the kiosk FOR_INSTANCE, or raise VerificationError.

        1. Check the value's length (stops malformed input before the database).
        2. Look it up by hash only (the table holds no live challenge).
        3. In ONE conditional UPDATE, mark it used only if it was issued to this kiosk (stops a challenge
           stolen from another kiosk), is not used yet (stops replay) and is not expired (stops a stale
           signed request); the database serializes concurrent UPDATEs of the row, so when two processes race
           exactly one sees rowcount 1 (stops a double spend across processes).
        4. Refuse unless exactly one row changed; one message for every reason, so a prober learns nothing.
        A try from the wrong kiosk does not use the challenge up: the rightful kiosk can still finish.
        """
        # Step 1
        if len(value) != CHALLENGE_BYTES:
            _refuse()
        _check_instance(for_instance)
        now = self._clock.now()
        # Step 2 and 3
        statement = (
            update(challenges_table)
            .where(
                challenges_table.c.value_hash == _hash(value),
                challenges_table.c.issued_to == for_instance,
                challenges_table.c.used_at.is_(None),
                challenges_table.c.expires_at > now,
            )
            .values(used_at=now)
        )
        changed = self._run(lambda conn: conn.execute(statement).rowcount)
        # Step 4
        if changed != 1:
            _refuse()

    def purge_expired(self) -> int:
        """Delete every challenge past its expiry, used or not; returns how many. An expired one is refused anyway."""
        statement = delete(challenges_table).where(challenges_table.c.expires_at <= self._clock.now())
        return self._run(lambda conn: conn.execute(statement).rowcount)

    def _run(self, work: Callable[[Connection], _T]) -> _T:
        return in_transaction(self._engine, work, what="challenge store")


def _hash(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def _check_instance(instance: str) -> None:
    if not _INSTANCE.fullmatch(instance):
        raise ValidationError("kiosk instance id is malformed")


def _refuse() -> NoReturn:
    raise VerificationError(
        "the challenge is unknown, already used, expired or was issued to another kiosk",
        ja="チャレンジが無効です。最初からやり直してください。",
    )
