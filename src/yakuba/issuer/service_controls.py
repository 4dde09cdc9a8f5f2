"""The city's service controls as the issuer enforces them: a suspended kind, a maintenance window; no HTTP, no ORM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from yakuba.clock import JST
from yakuba.errors import KindSuspendedError, MaintenanceError, ValidationError

__all__ = ["MAX_NOTE_CHARS", "MAX_WINDOW", "ServiceControl", "check_controls", "new_kind_suspension", "new_window"]

MAX_NOTE_CHARS = 200
"""A control's note is a short operational remark (never a resident's data); longer text is refused."""

MAX_WINDOW = dt.timedelta(days=14)
"""A maintenance window longer than two weeks is a typo in the end date; a real outage is a kind suspension."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceControl:
    """One control set from the city's console.

    kind None: every kind of this issuer. starts_at and ends_at None: a suspension until lifted; both set: a
    maintenance window [starts_at, ends_at). Lifted controls are kept (who did what, when) but no longer apply.
    """

    id: int
    kind: str | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    note: str
    created_at: dt.datetime
    created_by: str
    lifted_at: dt.datetime | None = None
    lifted_by: str | None = None

    @property
    def is_window(self) -> bool:
        return self.ends_at is not None

    def applies(self, kind: str, at: dt.datetime) -> bool:
        """Whether this control refuses KIND at AT."""
        if self.lifted_at is not None or (self.kind is not None and self.kind != kind):
            return False
        if self.starts_at is not None and at < self.starts_at:
            return False
        return self.ends_at is None or at < self.ends_at


def check_controls(controls: Iterable[ServiceControl], *, kind: str, at: dt.datetime) -> None:
    """Raise KindSuspendedError or MaintenanceError when a control refuses KIND at AT (a maintenance window
    names when it ends, in JST, so the kiosk can tell the resident when to come back)."""
    for control in controls:
        if not control.applies(kind, at):
            continue
        if control.ends_at is not None:
            until = control.ends_at.astimezone(JST)
            raise MaintenanceError(
                f"The city's systems are under maintenance until {until:%Y-%m-%d %H:%M} (JST). "
                "Please try again after that.",
                ja=f"ただいまシステムの保守作業中です（{until:%Y年%m月%d日 %H時%M分}まで）。終了後にご利用ください。",
            )
        raise KindSuspendedError()


def _note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError(
            f"the note is longer than {MAX_NOTE_CHARS} characters", ja=f"備考は{MAX_NOTE_CHARS}文字以内です"
        )
    return note


def new_kind_suspension(*, kind: str, note: str, at: dt.datetime, by: str) -> ServiceControl:
    """A suspension of KIND from AT until lifted (id 0 until stored)."""
    return ServiceControl(id=0, kind=kind, starts_at=None, ends_at=None, note=_note(note), created_at=at, created_by=by)


def new_window(
    *, starts_at: dt.datetime, ends_at: dt.datetime, note: str, at: dt.datetime, by: str, kind: str | None = None
) -> ServiceControl:
    """A maintenance window [STARTS_AT, ENDS_AT) for every kind (or KIND): ends after it starts and after AT,
    and lasts at most MAX_WINDOW."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationError("a maintenance window needs times with a zone", ja="保守時間帯の時刻が不正です")
    if ends_at <= starts_at or ends_at <= at:
        raise ValidationError(
            "the maintenance window must end after it starts, and in the future",
            ja="保守時間帯の終了は開始より後、かつ現在より後にしてください",
        )
    if ends_at - starts_at > MAX_WINDOW:
        raise ValidationError(
            f"a maintenance window lasts at most {MAX_WINDOW.days} days",
            ja=f"保守時間帯は最長{MAX_WINDOW.days}日です",
        )
    return ServiceControl(
        id=0, kind=kind, starts_at=starts_at, ends_at=ends_at, note=_note(note), created_at=at, created_by=by
    )
