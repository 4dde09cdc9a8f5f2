"""The registry's typed, frozen values: what the store returns and the life events take."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "Address",
    "CardBinding",
    "CardStatus",
    "HistoryEntry",
    "HonsekiUseRegistration",
    "Household",
    "HouseholdView",
    "IncomeKind",
    "NewPerson",
    "Person",
    "PersonName",
    "ResidentStatus",
    "SealRegistration",
    "SealStatus",
    "Sex",
    "TaxRecord",
    "TaxSnapshot",
    "TaxStatement",
    "kanji_numeral",
]

_KANJI_DIGITS = "〇一二三四五六七八九"


def kanji_numeral(number: int) -> str:
    """A small positive number in kanji as addresses write 丁目 (1 -> 一, 12 -> 十二, 20 -> 二十)."""
    if not 0 < number < 100:
        raise ValueError("丁目 numbers are 1-99")
    tens, ones = divmod(number, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _KANJI_DIGITS[tens] + "十")
    return head + ("" if ones == 0 else _KANJI_DIGITS[ones])


class Sex(enum.StrEnum):
    """Sex as the residence record holds it."""

    MALE = "male"
    FEMALE = "female"

    @property
    def ja(self) -> str:
        return "男" if self is Sex.MALE else "女"


class ResidentStatus(enum.StrEnum):
    """Where a person stands on the residence register (住民基本台帳)."""

    RESIDENT = "resident"
    MOVE_OUT_FILED = "move_out_filed"  # 転出届 filed, planned date not yet processed
    MOVED_OUT = "moved_out"  # 転出: the record is a 除票
    DECEASED = "deceased"  # 死亡: the record is a 除票

    @property
    def is_current(self) -> bool:
        """Whether the person is still on the register (not a removed record, 除票)."""
        return self in (ResidentStatus.RESIDENT, ResidentStatus.MOVE_OUT_FILED)


class SealStatus(enum.StrEnum):
    """A seal registration (印鑑登録) is live or de-registered (廃止)."""

    REGISTERED = "registered"
    DEREGISTERED = "deregistered"


class CardStatus(enum.StrEnum):
    """A card binding is active until its certificate is revoked."""

    ACTIVE = "active"
    REVOKED = "revoked"


class IncomeKind(enum.StrEnum):
    """Kinds of income (所得の種類) a resident-tax assessment separates."""

    SALARY = "salary"  # 給与所得
    BUSINESS = "business"  # 営業等所得
    REAL_ESTATE = "real_estate"  # 不動産所得
    PENSION = "pension"  # 公的年金等に係る雑所得
    MISC = "misc"  # その他の雑所得
    DIVIDEND = "dividend"  # 配当所得


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """A Japanese address down to 丁目-番-号 and building; no 丁目 means a 番地 address."""

    prefecture: str
    city: str
    town: str
    chome: int | None = None
    ban: int
    go: int | None = None
    building: str | None = None

    def __str__(self) -> str:
        if self.chome is not None:
            number = f"{kanji_numeral(self.chome)}丁目{self.ban}番" + (f"{self.go}号" if self.go else "")
        else:
            number = f"{self.ban}番地" + (f"{self.go}" if self.go else "")
        text = f"{self.prefecture}{self.city}{self.town}{number}"
        return f"{text}　{self.building}" if self.building else text


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonName:
    """A name as registered: kanji (or the alphabet for some foreign residents) and its kana reading."""

    family: str
    given: str
    family_kana: str | None = None
    given_kana: str | None = None

    @property
    def full(self) -> str:
        return f"{self.family}　{self.given}"

    @property
    def full_kana(self) -> str | None:
        if self.family_kana is None or self.given_kana is None:
            return None
        return f"{self.family_kana}　{self.given_kana}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewPerson:
    """What a birth or a move-in puts on the register for a new person."""

    name: PersonName
    birth_date: dt.date
    sex: Sex
    nationality: str = "JP"
    former_surname: str | None = None
    former_surname_kana: str | None = None
    honseki: str | None = None
    hittosha: str | None = None
    my_number: str | None = None
    juminhyo_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """One person's residence record (住民票), current or removed."""

    id: int
    juminhyo_code: str
    my_number: str
    name: PersonName
    former_surname: str | None
    former_surname_kana: str | None
    birth_date: dt.date
    sex: Sex
    nationality: str
    household_id: int
    relationship: str  # 続柄 to the head of household, e.g. 世帯主, 妻, 子
    address: Address
    address_since: dt.date
    previous_address: Address | None
    resident_since: dt.date
    honseki: str | None  # 本籍 (Japanese nationals only)
    hittosha: str | None  # 筆頭者
    koseki_register_id: int | None  # set when the 本籍 is in this city
    status: ResidentStatus
    move_out_planned_on: dt.date | None
    moved_out_on: dt.date | None
    move_out_destination: Address | None
    died_on: dt.date | None
    support_measure: bool  # 支援措置 (DV / stalker victims): never certified at a kiosk

    @property
    def is_japanese(self) -> bool:
        return self.nationality == "JP"

    def age_on(self, day: dt.date) -> int:
        """Age in full years on DAY (one turns a year older on the day before the birthday under Japanese law,
        but certificates and the 15-year rule use the calendar birthday, as here)."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)


@dataclass(frozen=True, slots=True, kw_only=True)
class Household:
    """A household (世帯): its address; the head is the member whose relationship is 世帯主."""

    id: int
    address: Address
    head_person_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdView:
    """A household as a residence certificate needs it: current members only, head first."""

    household: Household
    members: tuple[Person, ...]
    removed_members: tuple[Person, ...]

    @property
    def has_pending_move_out(self) -> bool:
        """A member has filed a move-out: the whole household's record is refused at a kiosk."""
        return any(m.status is ResidentStatus.MOVE_OUT_FILED for m in self.members)

    @property
    def head(self) -> Person | None:
        for member in self.members:
            if member.id == self.household.head_person_id:
                return member
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SealRegistration:
    """A seal registration (印鑑登録) with its impression image, as the registry holds it right now."""

    registration_number: str
    person_id: int
    impression_png: bytes = field(repr=False)
    impression_sha256: str
    registered_at: dt.datetime
    deregistered_at: dt.datetime | None
    status: SealStatus

    @property
    def is_live(self) -> bool:
        return self.status is SealStatus.REGISTERED


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxSnapshot:
    """One nightly copy of the tax system's data: certificates state its as-of date."""

    id: int
    as_of: dt.date
    loaded_at: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxRecord:
    """One person's resident-tax assessment for one fiscal year (課税年度), in yen."""

    fiscal_year: int
    person_id: int
    salary_revenue: int
    incomes: Mapping[IncomeKind, int]
    deductions: Mapping[str, int]
    taxable_income: int
    per_capita_tax: int  # 均等割
    income_based_tax: int  # 所得割
    exempt: bool  # 非課税

    @property
    def total_income(self) -> int:
        return sum(self.incomes.values())

    @property
    def total_deductions(self) -> int:
        return sum(self.deductions.values())

    @property
    def total_tax(self) -> int:
        return self.per_capita_tax + self.income_based_tax


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxStatement:
    """A tax record together with the snapshot it was read from: the certificate prints `snapshot.as_of`."""

    snapshot: TaxSnapshot
    record: TaxRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class CardBinding:
    """A My Number card's JPKI certificate serial bound to a resident of this city."""

    serial: str
    person_id: int
    fingerprint: str
    issued_at: dt.datetime
    status: CardStatus
    revoked_at: dt.datetime | None
    revoke_reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HonsekiUseRegistration:
    """利用登録: a card of someone living elsewhere, registered to get this city's family-register certificates."""

    serial: str
    koseki_member_id: int
    registered_at: dt.datetime
    status: CardStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One history row: an aggregate changed by an event, written in the same transaction as the change.

    These rows are the seam for the audit log: an exporter can append them in id order.
    """

    id: int
    aggregate: str
    aggregate_id: str
    event: str
    recorded_at: dt.datetime
    effective_on: dt.date | None
    detail: Mapping[str, object]
