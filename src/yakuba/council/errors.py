"""Errors of the council package: a condition found broken, or a check unable to decide; codes unique."""

from __future__ import annotations

from yakuba.errors import NotFoundError, ValidationError, VerificationError, YakubaError

__all__ = ["CannotTellError", "ConditionBrokenError", "ReportPeriodError", "UnknownConditionError"]


class ConditionBrokenError(VerificationError):
    """A council condition does not hold in the live system; the detail says where."""

    code = "council_condition_broken"
    message_ja = "審議会の附帯意見に沿わない状態が見つかりました。"
    message_en = "A condition of the council does not hold."


class CannotTellError(YakubaError):
    """A check could not decide (a register or service is not available); never read as a pass."""

    code = "council_cannot_tell"
    message_ja = "確認に必要な情報が得られないため判定できません。"
    message_en = "The check cannot tell: what it needs is not available."


class UnknownConditionError(NotFoundError):
    """No condition of the council record has that id."""

    code = "council_unknown_condition"
    message_ja = "該当する附帯意見がありません。"
    message_en = "No such condition on the council record."


class ReportPeriodError(ValidationError):
    """The report period is not YYYY-MM or YYYY-MM..YYYY-MM in order."""

    code = "council_period_invalid"
    message_ja = "報告期間の指定に誤りがあります（YYYY-MM または YYYY-MM..YYYY-MM）。"
    message_en = "The report period is invalid (YYYY-MM or YYYY-MM..YYYY-MM)."
