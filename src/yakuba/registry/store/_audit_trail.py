"""The registry's audit trail: every history row also goes on the city's tamper-evident log, in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from yakuba.audit import Actor, AuditEntry, AuditLog, subject_key

__all__ = ["RegistryAuditTrail"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryAuditTrail:
    """Where registry events are logged: the log in the registry's own database, its subject key, the actor."""

    log: AuditLog
    subject_secret: bytes
    actor: Actor

    def record(
        self,
        session: Session,
        *,
        aggregate: str,
        aggregate_id: str,
        event: str,
        at: dt.datetime,
        effective_on: dt.date | None,
    ) -> None:
        """Append `registry.<event>` for the aggregate inside SESSION's transaction.

        The subject is a keyed hash of (aggregate, id), so a resident can later find their own entries and
        nobody can read who they are from the log; the event's detail (names, addresses) stays in the
        registry and never reaches the log.
        """
        self.log.append(
            session,
            AuditEntry(
                event_type=f"registry.{event}",
                actor=self.actor,
                time=at,
                subject=subject_key(self.subject_secret, aggregate, aggregate_id),
                fields={
                    "aggregate": aggregate,
                    "effective_on": effective_on.isoformat() if effective_on else None,
                },
            ),
        )
