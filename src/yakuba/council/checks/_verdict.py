"""Verdicts: a check raises when its condition is broken or undecidable; judge() turns that into a verdict."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from yakuba.council.errors import CannotTellError, ConditionBrokenError
from yakuba.council.record import Text

__all__ = ["CheckResult", "Evidence", "Verdict", "broken", "cannot_tell", "judge"]

Evidence = tuple[str, ...]
"""Lines of evidence: ids, kinds, counts and addresses; never personal data."""

MAX_EVIDENCE_LINES = 40
"""A report page lists at most this many lines per check; the count of the rest is given instead."""


class Verdict(enum.StrEnum):
    """What a check found: the condition holds, fails, or the system cannot tell."""

    HOLDS = "holds"
    FAILS = "fails"
    CANNOT_TELL = "cannot_tell"

    @property
    def label(self) -> Text:
        return {
            Verdict.HOLDS: Text(ja="適合", en="holds"),
            Verdict.FAILS: Text(ja="不適合", en="fails"),
            Verdict.CANNOT_TELL: Text(ja="判定不能", en="cannot tell"),
        }[self]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One check's verdict with its evidence."""

    check_id: str
    verdict: Verdict
    evidence: Evidence


class _Broken(ConditionBrokenError):
    evidence: Evidence = ()


class _CannotTell(CannotTellError):
    evidence: Evidence = ()


def _clip(lines: Sequence[str]) -> Evidence:
    if len(lines) <= MAX_EVIDENCE_LINES:
        return tuple(lines)
    return (*lines[:MAX_EVIDENCE_LINES], f"... and {len(lines) - MAX_EVIDENCE_LINES} more")


def broken(lines: Sequence[str]) -> ConditionBrokenError:
    """The error a check raises when its condition does not hold; LINES say where."""
    err = _Broken("; ".join(lines[:3]) or None)
    err.evidence = _clip(lines)
    return err


def cannot_tell(lines: Sequence[str]) -> CannotTellError:
    """The error a check raises when it cannot decide; LINES say why."""
    err = _CannotTell("; ".join(lines[:3]) or None)
    err.evidence = _clip(lines)
    return err


def judge(check_id: str, check: Callable[[], Evidence]) -> CheckResult:
    """Run CHECK (which raises when the condition is broken or undecidable) and record its verdict."""
    try:
        evidence = check()
    except ConditionBrokenError as exc:
        return CheckResult(check_id=check_id, verdict=Verdict.FAILS, evidence=getattr(exc, "evidence", (exc.text_en,)))
    except CannotTellError as exc:
        lines = getattr(exc, "evidence", (exc.text_en,))
        return CheckResult(check_id=check_id, verdict=Verdict.CANNOT_TELL, evidence=lines)
    return CheckResult(check_id=check_id, verdict=Verdict.HOLDS, evidence=_clip(evidence))
