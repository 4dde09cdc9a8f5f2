"""Sample requests of every kind, built in code from a seed: for the demo, the benchmark and the tests."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from yakuba.clock import JST
from yakuba.documents._models import (
    AddressHistoryEntry,
    DocumentContent,
    DocumentHeader,
    DocumentKind,
    DocumentRequest,
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
from yakuba.documents._seal import personal_seal_png
from yakuba.wareki import format_wareki

__all__ = ["SAMPLE_CITY", "SampleCity", "sample_household", "sample_request"]

_SURNAMES = ("山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤", "吉田", "山本")
_KANA = {
    "山田": "ヤマダ",
    "佐藤": "サトウ",
    "鈴木": "スズキ",
    "高橋": "タカハシ",
    "田中": "タナカ",
    "伊藤": "イトウ",
    "渡辺": "ワタナベ",
    "中村": "ナカムラ",
    "小林": "コバヤシ",
    "加藤": "カトウ",
    "吉田": "ヨシダ",
    "山本": "ヤマモト",
}
_MEN = (("太郎", "タロウ"), ("健一", "ケンイチ"), ("翔太", "ショウタ"), ("大輔", "ダイスケ"), ("誠", "マコト"))
_WOMEN = (("花子", "ハナコ"), ("美咲", "ミサキ"), ("陽子", "ヨウコ"), ("由美", "ユミ"), ("愛", "アイ"))
_CHILDREN = (
    (("一郎", "イチロウ"), "男", "長男"),
    (("さくら", "サクラ"), "女", "長女"),
    (("次郎", "ジロウ"), "男", "二男"),
)
_TOWNS = ("南町", "田無町", "保谷町", "ひばりが丘", "向台町", "谷戸町", "芝久保町", "東伏見")


class SampleCity:
    """The fictional city the samples are issued by (the sample deployment's first city)."""

    code = "132292"
    name = "西東京市"
    mayor_title = "西東京市長"
    mayor_name = "緑川　一郎"
    prefecture = "東京都"


SAMPLE_CITY = SampleCity()


def _address(rng: random.Random) -> str:
    return f"東京都西東京市{rng.choice(_TOWNS)}{rng.randint(1, 6)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号"


def sample_household(seed: int, *, members: int = 4) -> tuple[str, tuple[ResidentMember, ...]]:
    """A household of up to MEMBERS people (head, spouse, children), its address, deterministic from SEED."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not secrets
    surname = _SURNAMES[seed % len(_SURNAMES)]
    kana = _KANA[surname]
    address = _address(rng)
    moved_in = dt.date(2010 + rng.randint(0, 12), rng.randint(1, 12), rng.randint(1, 28))
    head_birth = dt.date(1960 + rng.randint(0, 25), rng.randint(1, 12), rng.randint(1, 28))
    given, given_kana = rng.choice(_MEN)
    wife, wife_kana = rng.choice(_WOMEN)
    people = [
        (f"{surname}　{given}", f"{kana}　{given_kana}", head_birth, "男", "世帯主"),
        (
            f"{surname}　{wife}",
            f"{kana}　{wife_kana}",
            head_birth + dt.timedelta(days=rng.randint(200, 900)),
            "女",
            "妻",
        ),
    ]
    for index, ((child, child_kana), sex, _koseki_rel) in enumerate(_CHILDREN):
        birth = head_birth + dt.timedelta(days=365 * (27 + 3 * index) + rng.randint(0, 300))
        people.append((f"{surname}　{child}", f"{kana}　{child_kana}", birth, sex, "子"))
    result = []
    for index, (name, name_kana, birth, sex, rel) in enumerate(people[:members]):
        since = max(moved_in, birth)
        result.append(
            ResidentMember(
                person_id=f"P{seed:06d}{index}",
                name=name,
                name_kana=name_kana,
                birth_date=birth,
                sex=sex,
                relationship=rel,
                became_resident_on=since,
                address_set_on=since,
                previous_address="東京都小平市小川町1丁目" + str(rng.randint(100, 999)) + "番地"
                if since == moved_in
                else "",
                individual_number="".join(str(rng.randint(0, 9)) for _ in range(12)),
                resident_code="".join(str(rng.randint(0, 9)) for _ in range(11)),
            )
        )
    return address, tuple(result)


def _header(kind: DocumentKind, *, serial_number: int, issued_at: dt.datetime) -> DocumentHeader:
    return DocumentHeader(
        kind=kind,
        city_code=SAMPLE_CITY.code,
        city_name=SAMPLE_CITY.name,
        mayor_title=SAMPLE_CITY.mayor_title,
        mayor_name=SAMPLE_CITY.mayor_name,
        serial=f"0001-{serial_number:08d}",
        issued_at=issued_at,
    )


def _koseki(seed: int, members: tuple[ResidentMember, ...]) -> KosekiContent:
    head, *rest = members
    surname = head.name.split("　")[0]
    married = dt.date(head.birth_date.year + 28, 4, 12)
    father, mother = f"{surname}　{_MEN[seed % 5][0]}", f"{surname}　{_WOMEN[seed % 5][0]}"
    honseki = "東京都西東京市南町五丁目" + str(seed % 40 + 1) + "番地"

    def birth_event(person: ResidentMember, *, place: str) -> KosekiEvent:
        return KosekiEvent(
            heading="出生",
            lines=(
                ("出生日", format_wareki(person.birth_date, wide=True)),
                ("出生地", place),
                ("届出日", format_wareki(person.birth_date + dt.timedelta(days=7), wide=True)),
                ("届出人", "父"),
            ),
        )

    marriage = KosekiEvent(
        heading="婚姻",
        lines=(("婚姻日", format_wareki(married, wide=True)), ("配偶者氏名", rest[0].name if rest else "")),
    )
    persons = [
        KosekiPerson(
            person_id=head.person_id,
            name=head.name,
            birth_date=head.birth_date,
            father=father,
            mother=mother,
            relationship="長男",
            spouse=bool(rest),
            events=(birth_event(head, place="東京都西東京市"), marriage),
        )
    ]
    for member, (_, _sex, rel) in zip(rest[1:], _CHILDREN, strict=False):
        persons.append(
            KosekiPerson(
                person_id=member.person_id,
                name=member.name,
                birth_date=member.birth_date,
                father=head.name,
                mother=rest[0].name,
                relationship=rel,
                events=(birth_event(member, place="東京都西東京市"),),
            )
        )
    if rest:
        wife = rest[0]
        persons.insert(
            1,
            KosekiPerson(
                person_id=wife.person_id,
                name=wife.name,
                birth_date=wife.birth_date,
                father="中島　正",
                mother="中島　幸子",
                relationship="長女",
                spouse=True,
                events=(
                    birth_event(wife, place="埼玉県所沢市"),
                    KosekiEvent(
                        heading="婚姻",
                        lines=(
                            ("婚姻日", format_wareki(married, wide=True)),
                            ("配偶者氏名", head.name),
                            ("従前戸籍", "埼玉県所沢市並木一丁目５番地　中島　正"),
                        ),
                    ),
                ),
            ),
        )
    return KosekiContent(
        honseki=honseki,
        hittosha=head.name,
        register_events=(KosekiEvent(heading="戸籍編製", lines=(("編製日", format_wareki(married, wide=True)),)),),
        persons=tuple(persons),
        requested_by=head.name,
    )


def sample_request(
    kind: DocumentKind,
    *,
    seed: int,
    issued_at: dt.datetime | None = None,
    options: ResidentRecordOptions | None = None,
    font_file: Path | None = None,
) -> DocumentRequest:
    """A realistic request of KIND for the household numbered SEED (same seed, same request)."""
    issued = issued_at or dt.datetime(2025, 11, 26, 10, 30, tzinfo=JST)
    address, members = sample_household(seed)
    head = members[0]
    content: DocumentContent
    match kind:
        case DocumentKind.RESIDENT_RECORD:
            content = ResidentRecordContent.select(
                address=address,
                head_of_household=head.name,
                honseki="東京都西東京市南町五丁目" + str(seed % 40 + 1) + "番地",
                hittosha=head.name,
                household=members,
                options=options or ResidentRecordOptions(show_relationship=True),
                requested_by=head.name,
                city_allows_individual_number=True,
            )
        case DocumentKind.RESIDENT_RECORD_ITEMS:
            content = ResidentRecordItemsContent(
                name=head.name,
                name_kana=head.name_kana,
                birth_date=head.birth_date,
                sex=head.sex,
                address=address,
                became_resident_on=head.became_resident_on,
                head_of_household=head.name,
                relationship="世帯主",
            )
        case DocumentKind.SEAL_REGISTRATION:
            if font_file is None:
                from yakuba.documents._fonts import FontSet

                font_file = FontSet.locate().mincho
            content = SealCertificateContent(
                registration_number=f"{seed:07d}",
                name=head.name,
                birth_date=head.birth_date,
                sex=head.sex,
                address=address,
                registered_on=head.became_resident_on + dt.timedelta(days=30),
                impression_png=personal_seal_png(head.name.split("　")[0], font_file=font_file),
            )
        case DocumentKind.TAX | DocumentKind.INCOME:
            rng = random.Random(seed * 7919)  # noqa: S311 - reproducible sample data
            revenue = rng.randrange(2_400_000, 9_000_000, 1000)
            salary_income = int(revenue * 0.7)
            deductions = 430_000 + rng.randrange(0, 1_200_000, 1000)
            taxable = max(0, salary_income - deductions)
            fiscal_year = issued.astimezone(JST).year if issued.astimezone(JST).month >= 6 else issued.year - 1
            as_of = (issued.astimezone(JST) - dt.timedelta(days=1)).date()
            if kind is DocumentKind.TAX:
                content = TaxCertificateContent(
                    fiscal_year=fiscal_year,
                    as_of=as_of,
                    name=head.name,
                    address=address,
                    birth_date=head.birth_date,
                    total_income=salary_income,
                    deductions=deductions,
                    taxable_income=taxable // 1000 * 1000,
                    municipal_tax=taxable * 6 // 100 // 100 * 100 + 3_500,
                    prefectural_tax=taxable * 4 // 100 // 100 * 100 + 1_500,
                    dependents=len(members) - 1,
                )
            else:
                content = IncomeCertificateContent(
                    fiscal_year=fiscal_year,
                    as_of=as_of,
                    name=head.name,
                    address=address,
                    birth_date=head.birth_date,
                    salary_revenue=revenue,
                    salary_income=salary_income,
                    other_income=0,
                    total_income=salary_income,
                )
        case DocumentKind.KOSEKI_FULL:
            content = _koseki(seed, members)
        case DocumentKind.KOSEKI_INDIVIDUAL:
            content = _koseki(seed, members).individual((head.person_id,))
        case DocumentKind.FUHYO:
            register = _koseki(seed, members)
            content = FuhyoContent(
                honseki=register.honseki,
                hittosha=register.hittosha,
                persons=tuple(
                    FuhyoPerson(
                        name=m.name,
                        birth_date=m.birth_date,
                        history=(
                            *(
                                (AddressHistoryEntry(address=m.previous_address, set_on=m.birth_date),)
                                if m.previous_address
                                else ()
                            ),
                            AddressHistoryEntry(address=address, set_on=m.address_set_on),
                        ),
                    )
                    for m in members
                ),
                requested_by=head.name,
            )
    return DocumentRequest(header=_header(kind, serial_number=seed, issued_at=issued), content=content)
