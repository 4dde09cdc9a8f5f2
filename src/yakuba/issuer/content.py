"""The adapter from registry read models (yakuba.registry) to certificate content models (yakuba.documents)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from yakuba.clock import JST
from yakuba.documents import (
    AddressHistoryEntry,
    FuhyoContent,
    FuhyoPerson,
    IncomeCertificateContent,
    KosekiContent,
    KosekiEvent,
    KosekiPerson,
    ResidentMember,
    ResidentRecordContent,
    ResidentRecordItemsContent,
    ResidentRecordOptions,
    SealCertificateContent,
    TaxCertificateContent,
)
from yakuba.registry import (
    HouseholdView,
    IncomeKind,
    KosekiEventKind,
    KosekiMember,
    KosekiRegister,
    Person,
    RegisterAddressEntry,
    ResidentStatus,
    SealRegistration,
    TaxRecord,
    TaxStatement,
)
from yakuba.registry import (
    KosekiEvent as RegistryKosekiEvent,
)
from yakuba.wareki import format_wareki

__all__ = [
    "DEPENDENT_DEDUCTION_YEN",
    "MUNICIPAL_PER_CAPITA_YEN",
    "MUNICIPAL_SHARE_TENTHS",
    "PREFECTURAL_PER_CAPITA_YEN",
    "fuhyo",
    "income_certificate",
    "koseki",
    "resident_record",
    "resident_record_items",
    "seal_certificate",
    "tax_certificate",
]

MUNICIPAL_PER_CAPITA_YEN = 4_000
"""均等割 shown as 市町村民税: the city's 3,000 yen plus the 1,000-yen 森林環境税 the city collects with it."""

PREFECTURAL_PER_CAPITA_YEN = 1_000
"""均等割 shown as 道府県民税."""

MUNICIPAL_SHARE_TENTHS = 6
"""所得割 is 6 % city and 4 % prefecture of the 10 % the registry assesses: 6/10 of it is the city's."""

DEPENDENT_DEDUCTION_YEN = 330_000
"""一般扶養控除 of resident tax per dependent, the unit the registry's assessment uses (the registry does not
export it; the tax record keeps deductions by name and amount, not the number of dependents)."""

_SPOUSES = frozenset({"夫", "妻"})


def _kana(person: Person) -> str:
    return person.name.full_kana or ""


def _resident_member(person: Person) -> ResidentMember:
    return ResidentMember(
        person_id=str(person.id),
        name=person.name.full,
        name_kana=_kana(person),
        birth_date=person.birth_date,
        sex=person.sex.ja,
        relationship=person.relationship,
        became_resident_on=person.resident_since,
        address_set_on=person.address_since,
        previous_address=str(person.previous_address) if person.previous_address else "",
        individual_number=person.my_number,
        resident_code=person.juminhyo_code,
        removed_on=None,
        moving_out_on=person.move_out_planned_on if person.status is ResidentStatus.MOVE_OUT_FILED else None,
    )


def _head_name(view: HouseholdView) -> str:
    head = view.head
    return head.name.full if head is not None else ""


def resident_record(
    view: HouseholdView,
    *,
    chosen: Sequence[Person],
    requester: Person,
    show_honseki: bool,
    show_relationship: bool,
    show_individual_number: bool,
    city_allows_individual_number: bool,
) -> ResidentRecordContent:
    """住民票の写し of the CHOSEN current members of VIEW (the applicant's household, read live)."""
    household = tuple(_resident_member(p) for p in view.members)
    whole = len(chosen) == len(view.members)
    options = ResidentRecordOptions(
        members=None if whole else tuple(str(p.id) for p in chosen),
        show_honseki=show_honseki,
        show_relationship=show_relationship,
        show_individual_number=show_individual_number,
    )
    return ResidentRecordContent.select(
        address=str(view.household.address),
        head_of_household=_head_name(view),
        honseki=requester.honseki or "",
        hittosha=requester.hittosha or "",
        household=household,
        options=options,
        requested_by=requester.name.full,
        city_allows_individual_number=city_allows_individual_number,
    )


def resident_record_items(person: Person, view: HouseholdView) -> ResidentRecordItemsContent:
    """住民票記載事項証明書 of the applicant."""
    return ResidentRecordItemsContent(
        name=person.name.full,
        name_kana=_kana(person),
        birth_date=person.birth_date,
        sex=person.sex.ja,
        address=str(person.address),
        became_resident_on=person.resident_since,
        head_of_household=_head_name(view),
        relationship=person.relationship,
    )


def seal_certificate(person: Person, seal: SealRegistration) -> SealCertificateContent:
    """印鑑登録証明書 of a live registration, with its impression as registered."""
    return SealCertificateContent(
        registration_number=seal.registration_number,
        name=person.name.full,
        birth_date=person.birth_date,
        sex=person.sex.ja,
        address=str(person.address),
        registered_on=seal.registered_at.astimezone(JST).date(),
        impression_png=seal.impression_png,
    )


def _split_tax(record: TaxRecord) -> tuple[int, int]:
    """(市町村民税, 道府県民税) of an assessment: per-capita parts plus the 6:4 split of 所得割."""
    if record.exempt:
        return 0, 0
    municipal_income = record.income_based_tax * MUNICIPAL_SHARE_TENTHS // 10
    prefectural_income = record.income_based_tax - municipal_income
    per_capita_total = MUNICIPAL_PER_CAPITA_YEN + PREFECTURAL_PER_CAPITA_YEN
    municipal_capita = record.per_capita_tax * MUNICIPAL_PER_CAPITA_YEN // per_capita_total
    prefectural_capita = record.per_capita_tax - municipal_capita
    return municipal_capita + municipal_income, prefectural_capita + prefectural_income


def _dependents(record: TaxRecord) -> int:
    """扶養親族の数 the deductions stand for (one spouse deduction, dependents at their unit amount)."""
    spouse = 1 if record.deductions.get("spouse", 0) > 0 else 0
    return spouse + record.deductions.get("dependents", 0) // DEPENDENT_DEDUCTION_YEN


def tax_certificate(person: Person, statement: TaxStatement) -> TaxCertificateContent:
    """課税（非課税）証明書 from the nightly snapshot, printing its as-of date."""
    record = statement.record
    municipal, prefectural = _split_tax(record)
    return TaxCertificateContent(
        fiscal_year=record.fiscal_year,
        as_of=statement.snapshot.as_of,
        name=person.name.full,
        address=str(person.address),
        birth_date=person.birth_date,
        total_income=record.total_income,
        deductions=record.total_deductions,
        taxable_income=record.taxable_income,
        municipal_tax=municipal,
        prefectural_tax=prefectural,
        dependents=_dependents(record),
    )


def income_certificate(person: Person, statement: TaxStatement) -> IncomeCertificateContent:
    """所得証明書 from the nightly snapshot, printing its as-of date."""
    record = statement.record
    salary = record.incomes.get(IncomeKind.SALARY, 0)
    return IncomeCertificateContent(
        fiscal_year=record.fiscal_year,
        as_of=statement.snapshot.as_of,
        name=person.name.full,
        address=str(person.address),
        birth_date=person.birth_date,
        salary_revenue=record.salary_revenue,
        salary_income=salary,
        other_income=record.total_income - salary,
        total_income=record.total_income,
    )


_COUNTERPART_LABEL = {
    KosekiEventKind.MARRIAGE: "配偶者氏名",
    KosekiEventKind.DIVORCE: "配偶者氏名",
    KosekiEventKind.ADOPTION: "養親氏名",
}


def _wide(day: dt.date) -> str:
    return format_wareki(day, wide=True)


def _event(event: RegistryKosekiEvent) -> KosekiEvent:
    heading = event.kind.ja
    lines: list[tuple[str, str]] = [(f"{heading}日", _wide(event.event_date)), ("届出日", _wide(event.filed_on))]
    if event.counterpart:
        lines.append((_COUNTERPART_LABEL.get(event.kind, "相手方"), event.counterpart))
    if event.detail:
        lines.append(("備考", event.detail))
    return KosekiEvent(heading=heading, lines=tuple(lines))


def _koseki_person(member: KosekiMember) -> KosekiPerson:
    return KosekiPerson(
        person_id=str(member.id),
        name=member.name.full,
        birth_date=member.birth_date,
        father=member.father or "",
        mother=member.mother or "",
        relationship=member.relationship,
        spouse=member.relationship in _SPOUSES,
        removed=member.removed_on is not None,
        events=tuple(_event(e) for e in member.events),
    )


def koseki(register: KosekiRegister, *, members: Sequence[KosekiMember], requested_by: str) -> KosekiContent:
    """戸籍全部事項証明書 (MEMBERS = every member) or 個人事項証明書 (the chosen ones), read live."""
    return KosekiContent(
        honseki=register.honseki,
        hittosha=register.hittosha,
        register_events=(KosekiEvent(heading="戸籍編製", lines=(("編製日", _wide(register.created_on)),)),),
        persons=tuple(_koseki_person(m) for m in members),
        requested_by=requested_by,
    )


def fuhyo(
    register: KosekiRegister,
    *,
    members: Sequence[KosekiMember],
    history: Sequence[RegisterAddressEntry],
    requested_by: str,
) -> FuhyoContent:
    """戸籍の附票の写し: each chosen member's addresses in date order."""
    return FuhyoContent(
        honseki=register.honseki,
        hittosha=register.hittosha,
        persons=tuple(
            FuhyoPerson(
                name=m.name.full,
                birth_date=m.birth_date,
                history=tuple(
                    AddressHistoryEntry(address=str(e.address), set_on=e.since)
                    for e in sorted((e for e in history if e.member_id == m.id), key=lambda e: e.since)
                ),
            )
            for m in members
        ),
        requested_by=requested_by,
    )
