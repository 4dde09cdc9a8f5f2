"""The council's record as frozen values: consultations, deliberations, answers, conditions and dissent."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from yakuba.council.errors import UnknownConditionError

__all__ = [
    "Answer",
    "AnswerKind",
    "Condition",
    "ConditionSource",
    "Consultation",
    "CouncilRecord",
    "Deliberation",
    "Dissent",
    "Text",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """Words as the minutes give them (ja) with an English summary (en)."""

    ja: str
    en: str


class AnswerKind(enum.StrEnum):
    """The council's answer (答申) to a consultation."""

    APPROVED = "approved"  # 承認
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"  # 附帯意見付きで承認
    REFUSED = "refused"  # 不承認

    @property
    def label(self) -> Text:
        return {
            AnswerKind.APPROVED: Text(ja="承認", en="approved"),
            AnswerKind.APPROVED_WITH_CONDITIONS: Text(ja="附帯意見を付して承認", en="approved with conditions"),
            AnswerKind.REFUSED: Text(ja="不承認", en="refused"),
        }[self]


class ConditionSource(enum.StrEnum):
    """Where a condition comes from: the council's rider on its answer, or what the city undertook when asked."""

    RIDER = "rider"  # 附帯意見
    UNDERTAKING = "undertaking"  # 説明員の説明（運用上の約束）


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One condition and the ids of the checks the system runs against itself for it."""

    condition_id: str
    source: ConditionSource
    text: Text
    checks: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Dissent:
    """Disagreement recorded with the answer, as written."""

    text: Text


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliberation:
    """One meeting that deliberated the consultation: who was there and who was not."""

    meeting: Text
    date: dt.date
    present: tuple[str, ...]
    absent: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """The council's answer (答申): its kind, its conditions and any dissent."""

    kind: AnswerKind
    decided_on: dt.date
    conditions: tuple[Condition, ...]
    dissent: tuple[Dissent, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Consultation:
    """A consultation (諮問): the question put to the council by a department about some of our systems."""

    number: str  # as on the record; the 2016 minutes give the agenda item (議題1, 議題2)
    date: dt.date | None  # when it was put to the council; None when the record does not say
    subject: Text
    department: Text
    systems: tuple[str, ...]  # yakuba parts concerned: "issuance", "recorder"
    deliberations: tuple[Deliberation, ...]
    answer: Answer | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CouncilRecord:
    """Every consultation on record, in order."""

    council: Text
    consultations: tuple[Consultation, ...]

    def conditions(self) -> list[tuple[Consultation, Condition]]:
        """Every condition with the consultation it belongs to."""
        return [(c, cond) for c in self.consultations if c.answer for cond in c.answer.conditions]

    def condition(self, condition_id: str) -> Condition:
        """The condition CONDITION_ID, or UnknownConditionError."""
        for _, cond in self.conditions():
            if cond.condition_id == condition_id:
                return cond
        raise UnknownConditionError(f"no condition {condition_id!r}", ja=f"附帯意見 {condition_id} はありません")
