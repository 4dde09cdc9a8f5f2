"""Who may get which certificate at a kiosk (domain.md): options parsed strictly, rules that raise a Refusal."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yakuba.documents import DocumentKind
from yakuba.errors import EligibilityError, ValidationError, VerificationError, YakubaError
from yakuba.issuer.audit_trail import SubjectRef
from yakuba.issuer.errors import CardNotRegisteredError, KindNotServedError
from yakuba.registry import Person, ResidentStatus

__all__ = [
    "KOSEKI_KINDS",
    "MIN_AGE",
    "OPTIONS_OF_KIND",
    "PERSONAL_REASONS",
    "ChosenOptions",
    "Reason",
    "Refusal",
    "check_included_person",
    "check_resident",
    "error_for",
    "parse_options",
    "pick_positions",
]

MIN_AGE = 15
"""A kiosk certificate needs the applicant to be 15 or over on the issue day (the card's PIN use from 15)."""

KOSEKI_KINDS = frozenset({DocumentKind.KOSEKI_FULL, DocumentKind.KOSEKI_INDIVIDUAL, DocumentKind.FUHYO})
"""The family-register kinds: the only ones a 本籍地 (honseki) request may ask for."""


class Reason(enum.StrEnum):
    """Why a request was refused: stored as a code in the issuer's own log, never as text about the person."""

    # Personal reasons: the wire gets one generic EligibilityError, whatever the reason (a support measure
    # must not be told apart from any other refusal, or the refusal itself discloses it).
    UNDER_AGE = "under_age"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"
    MOVE_OUT_FILED = "move_out_filed"
    MOVED_IN_TODAY = "moved_in_today"
    SUPPORT_MEASURE = "support_measure"
    MEMBER_SUPPORT_MEASURE = "member_support_measure"
    HOUSEHOLD_MOVE_OUT_PENDING = "household_move_out_pending"
    NO_LIVE_SEAL = "no_live_seal"
    NO_TAX_RECORD = "no_tax_record"
    REGISTER_NOT_HERE = "register_not_here"
    REGISTER_CLOSED = "register_closed"
    REGISTER_PENDING_FILING = "register_pending_filing"
    NOT_IN_REGISTER = "not_in_register"
    # Reasons about the request or the card: told as they are.
    CARD_NOT_REGISTERED = "card_not_registered"
    HONSEKI_NOT_REGISTERED = "honseki_not_registered"
    CARD_BINDING_MISMATCH = "card_binding_mismatch"
    KIND_NOT_FOR_BASIS = "kind_not_for_basis"
    INVALID_OPTION = "invalid_option"
    FISCAL_YEAR_NOT_CURRENT = "fiscal_year_not_current"
    INDIVIDUAL_NUMBER_NOT_ALLOWED = "individual_number_not_allowed"


PERSONAL_REASONS = frozenset(
    {
        Reason.UNDER_AGE,
        Reason.MOVED_OUT,
        Reason.DECEASED,
        Reason.MOVE_OUT_FILED,
        Reason.MOVED_IN_TODAY,
        Reason.SUPPORT_MEASURE,
        Reason.MEMBER_SUPPORT_MEASURE,
        Reason.HOUSEHOLD_MOVE_OUT_PENDING,
        Reason.NO_LIVE_SEAL,
        Reason.NO_TAX_RECORD,
        Reason.REGISTER_NOT_HERE,
        Reason.REGISTER_CLOSED,
        Reason.REGISTER_PENDING_FILING,
        Reason.NOT_IN_REGISTER,
    }
)
"""Reasons that say something about the person or their household: answered by the generic message only."""


class Refusal(Exception):
    """A rule refused the request; `error()` is what the kiosk is told, `reason` what the issuer logs."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.subject: SubjectRef | None = None
        """Whom the refused request was about, once the card was mapped to a person (for the audit log)."""

    def error(self) -> YakubaError:
        return error_for(self.reason)


def error_for(reason: Reason | str) -> YakubaError:
    """The error the wire carries for REASON; the same for every personal reason."""
    reason = Reason(reason)
    if reason in PERSONAL_REASONS:
        # The class's own generic text: "cannot be issued at a kiosk; please ask at the city office".
        return EligibilityError()
    match reason:
        case Reason.CARD_NOT_REGISTERED:
            return CardNotRegisteredError()
        case Reason.HONSEKI_NOT_REGISTERED:
            return CardNotRegisteredError(
                "This card has no 本籍地 use registration (利用登録) in this city; please register there first.",
                ja="このカードは本籍地の利用登録がされていません。本籍地の市区町村で利用登録をしてください。",
            )
        case Reason.CARD_BINDING_MISMATCH:
            return VerificationError(
                "The card does not match its registration in this city; please ask at the city office.",
                ja="カードが登録内容と一致しません。市区町村の窓口にお問い合わせください。",
            )
        case Reason.KIND_NOT_FOR_BASIS:
            return KindNotServedError(
                "Only family-register certificates are issued by the city of your 本籍.",
                ja="本籍地の市区町村では戸籍の証明書のみ発行できます。",
            )
        case Reason.FISCAL_YEAR_NOT_CURRENT:
            return ValidationError(
                "Only the current fiscal year's tax certificate is issued at a kiosk.",
                ja="コンビニ交付では最新年度の証明書のみ発行できます。",
            )
        case Reason.INDIVIDUAL_NUMBER_NOT_ALLOWED:
            return ValidationError(
                "This city does not print the individual number on kiosk certificates.",
                ja="この市区町村ではコンビニ交付で個人番号を記載できません。",
            )
    return ValidationError(
        "The options chosen are not valid for this certificate.", ja="選択された項目はこの証明書には指定できません。"
    )


_FLAG = bool
_POSITIONS = list
_YEAR = int

OPTIONS_OF_KIND: Mapping[DocumentKind, Mapping[str, type]] = {
    DocumentKind.RESIDENT_RECORD: {
        "members": _POSITIONS,
        "self_only": _FLAG,
        "show_honseki": _FLAG,
        "show_relationship": _FLAG,
        "show_individual_number": _FLAG,
    },
    DocumentKind.RESIDENT_RECORD_ITEMS: {},
    DocumentKind.SEAL_REGISTRATION: {},
    DocumentKind.TAX: {"fiscal_year": _YEAR},
    DocumentKind.INCOME: {"fiscal_year": _YEAR},
    DocumentKind.KOSEKI_FULL: {},
    DocumentKind.KOSEKI_INDIVIDUAL: {"members": _POSITIONS},
    DocumentKind.FUHYO: {"members": _POSITIONS},
}
"""The options each kind accepts, and their types; anything else is refused, never ignored.

- ``members``: positions (0-based) of the people to include; never names. For 住民票の写し, positions in the
  applicant's *current* household in the order the register keeps it (head first, then by birth date);
  for 戸籍個人事項証明 and 戸籍の附票, positions in the register in register order. Default: the whole
  current household (住民票), the applicant (個人事項), every current register member (附票).
- ``self_only``: 住民票の写し of the applicant alone (the kiosk cannot know the applicant's position).
- ``show_honseki``, ``show_relationship``, ``show_individual_number``: what 住民票の写し shows.
- ``fiscal_year``: tax and income certificates; must be the current fiscal year when given.
住民票記載事項証明書 is for the applicant alone at a kiosk; the others take no options.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChosenOptions:
    """The options of one request, parsed and typed."""

    members: tuple[int, ...] | None = None
    self_only: bool = False
    show_honseki: bool = False
    show_relationship: bool = False
    show_individual_number: bool = False
    fiscal_year: int | None = None


def parse_options(kind: DocumentKind, options: Mapping[str, Any]) -> ChosenOptions:
    """The typed options of KIND; Refusal(INVALID_OPTION) for an unknown key or a value of the wrong type."""
    allowed = OPTIONS_OF_KIND[kind]
    values: dict[str, Any] = {}
    for key, value in options.items():
        expected = allowed.get(key)
        if expected is None:
            raise Refusal(Reason.INVALID_OPTION)
        if expected is _POSITIONS:
            if not isinstance(value, list) or not value or not all(_is_int(v) and v >= 0 for v in value):
                raise Refusal(Reason.INVALID_OPTION)
            if len(set(value)) != len(value):
                raise Refusal(Reason.INVALID_OPTION)
            values[key] = tuple(value)
        elif expected is _FLAG:
            if not isinstance(value, bool):
                raise Refusal(Reason.INVALID_OPTION)
            values[key] = value
        else:
            if not _is_int(value):
                raise Refusal(Reason.INVALID_OPTION)
            values[key] = value
    chosen = ChosenOptions(**values)
    if chosen.self_only and chosen.members is not None:
        raise Refusal(Reason.INVALID_OPTION)
    return chosen


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def pick_positions(items: Sequence[Any], positions: tuple[int, ...]) -> tuple[Any, ...]:
    """ITEMS at POSITIONS, in ITEMS' own order; Refusal(INVALID_OPTION) for a position outside ITEMS."""
    if any(p >= len(items) for p in positions):
        raise Refusal(Reason.INVALID_OPTION)
    wanted = set(positions)
    return tuple(item for index, item in enumerate(items) if index in wanted)


def check_resident(person: Person, *, today: dt.date) -> None:
    """The applicant's own rules, in order; the first that fails refuses.

    1. On the register: not moved out, not deceased (a stale card binding must not issue for a 除票).
    2. No move-out filed (the record is about to change; domain.md: refused).
    3. Not under a support measure (支援措置): never, for any kind.
    4. Aged MIN_AGE or over on the issue day.
    5. Not on the day of a move-in or a move within the city (the record of that day is still being keyed).
    """
    if person.status is ResidentStatus.DECEASED:  # 1
        raise Refusal(Reason.DECEASED)
    if person.status is ResidentStatus.MOVED_OUT:
        raise Refusal(Reason.MOVED_OUT)
    if person.status is ResidentStatus.MOVE_OUT_FILED:  # 2
        raise Refusal(Reason.MOVE_OUT_FILED)
    if person.support_measure:  # 3
        raise Refusal(Reason.SUPPORT_MEASURE)
    if person.age_on(today) < MIN_AGE:  # 4
        raise Refusal(Reason.UNDER_AGE)
    if today in (person.resident_since, person.address_since):  # 5
        raise Refusal(Reason.MOVED_IN_TODAY)


def check_included_person(person: Person) -> None:
    """Someone printed on another's certificate: never a person under a support measure."""
    if person.support_measure:
        raise Refusal(Reason.MEMBER_SUPPORT_MEASURE)
