"""The privacy council: its record (consultations, answers, conditions, dissent), live checks and report."""

from yakuba.council.errors import CannotTellError, ConditionBrokenError, ReportPeriodError, UnknownConditionError
from yakuba.council.record import (
    Answer,
    AnswerKind,
    Condition,
    ConditionSource,
    Consultation,
    CouncilRecord,
    Deliberation,
    Dissent,
    Text,
)
from yakuba.council.sample import sample_record

__all__ = [
    "Answer",
    "AnswerKind",
    "CannotTellError",
    "Condition",
    "ConditionBrokenError",
    "ConditionSource",
    "Consultation",
    "CouncilRecord",
    "Deliberation",
    "Dissent",
    "ReportPeriodError",
    "Text",
    "UnknownConditionError",
    "sample_record",
]
