"""住民票の写し, 住民票記載事項証明書 and 印鑑登録証明書: content from the residence and seal registries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from yakuba.documents._models._header import INDIVIDUAL_NUMBER_PATTERN, require
from yakuba.errors import ValidationError

__all__ = [
    "ResidentMember",
    "ResidentRecordContent",
    "ResidentRecordItemsContent",
    "ResidentRecordOptions",
    "SealCertificateContent",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResidentMember:
    """One person of a household as the residence registry holds them."""

    person_id: str
    name: str
    name_kana: str
    birth_date: dt.date
    sex: str
    relationship: str
    became_resident_on: dt.date
    address_set_on: dt.date
    previous_address: str = ""
    individual_number: str | None = None
    resident_code: str | None = None
    """住民票コード: carried because the registry has it; no layout ever prints it."""
    removed_on: dt.date | None = None
    """消除: the member left the household (moved out, died); never printed."""
    moving_out_on: dt.date | None = None
    """A filed move-out (転出予定): the household's record cannot be issued at a kiosk."""

    def __post_init__(self) -> None:
        require(self.sex in ("男", "女"), f"sex {self.sex!r} is not 男 or 女", "性別の値が正しくありません")
        if self.individual_number is not None:
            require(
                bool(INDIVIDUAL_NUMBER_PATTERN.fullmatch(self.individual_number)),
                "individual number must be 12 digits",
                "個人番号は12桁です",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class ResidentRecordOptions:
    """What the resident chose at the kiosk for a 住民票の写し."""

    members: tuple[str, ...] | None = None
    """Person ids to include, in household order; None for the whole household."""
    show_honseki: bool = False
    """本籍・筆頭者."""
    show_relationship: bool = False
    """世帯主・続柄."""
    show_individual_number: bool = False
    """個人番号, only where the city allows it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResidentRecordContent:
    """住民票の写し: the chosen members of one household, with the options that decide what is shown."""

    address: str
    head_of_household: str
    honseki: str
    hittosha: str
    members: tuple[ResidentMember, ...]
    options: ResidentRecordOptions
    requested_by: str
    """Name of the resident who asked; printed on every page as the person marker."""

    def __post_init__(self) -> None:
        require(len(self.members) > 0, "a residence record needs at least one member", "記載する世帯員がいません")
        for member in self.members:
            require(
                member.removed_on is None,
                f"member {member.person_id} was removed on {member.removed_on}; removed members are never printed",
                "消除された世帯員は記載できません",
            )
            if not self.options.show_individual_number:
                continue
            require(
                member.individual_number is not None,
                f"member {member.person_id} has no individual number to show",
                "個人番号がありません",
            )

    @classmethod
    def select(
        cls,
        *,
        address: str,
        head_of_household: str,
        honseki: str,
        hittosha: str,
        household: tuple[ResidentMember, ...],
        options: ResidentRecordOptions,
        requested_by: str,
        city_allows_individual_number: bool,
    ) -> ResidentRecordContent:
        """The record for the members the resident chose, after the kiosk rules.

        1. 個人番号 only where the city allows it (stops an option the city switched off).
        2. A household with a member due to move out is refused (stops printing a soon-stale record).
        3. Removed (消除) members are dropped, never printed (stops disclosing people who left).
        4. Chosen members must belong to the household (stops a request naming an outsider).
        """
        # 1.
        if options.show_individual_number and not city_allows_individual_number:
            raise ValidationError(
                "this city does not print the individual number on kiosk certificates",
                ja="この市区町村ではコンビニ交付で個人番号を記載できません",
            )
        # 2.
        if any(m.moving_out_on is not None and m.removed_on is None for m in household):
            raise ValidationError(
                "a household member has filed a move-out; the record cannot be issued at a kiosk",
                ja="転出予定の世帯員がいるため、コンビニ交付では発行できません",
            )
        # 3.
        current = tuple(m for m in household if m.removed_on is None)
        # 4.
        if options.members is None:
            chosen = current
        else:
            by_id = {m.person_id: m for m in current}
            unknown = [pid for pid in options.members if pid not in by_id]
            if unknown:
                raise ValidationError(
                    f"not current members of this household: {', '.join(unknown)}",
                    ja="世帯に属していない人が指定されました",
                )
            wanted = set(options.members)
            chosen = tuple(m for m in current if m.person_id in wanted)
        return cls(
            address=address,
            head_of_household=head_of_household,
            honseki=honseki,
            hittosha=hittosha,
            members=chosen,
            options=options,
            requested_by=requested_by,
        )

    @property
    def subject_name(self) -> str:
        return self.requested_by


@dataclass(frozen=True, slots=True, kw_only=True)
class ResidentRecordItemsContent:
    """住民票記載事項証明書: the registry's entries for one person, certified as recorded."""

    name: str
    name_kana: str
    birth_date: dt.date
    sex: str
    address: str
    became_resident_on: dt.date
    head_of_household: str
    relationship: str

    @property
    def subject_name(self) -> str:
        return self.name


# --- 印鑑登録 -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SealCertificateContent:
    """印鑑登録証明書: a live registration and its impression (印影) as a PNG image."""

    registration_number: str
    name: str
    birth_date: dt.date
    sex: str
    address: str
    registered_on: dt.date
    impression_png: bytes = field(repr=False)

    def __post_init__(self) -> None:
        require(
            self.impression_png.startswith(b"\x89PNG\r\n\x1a\n"),
            "the seal impression must be a PNG image",
            "印影の画像がPNGではありません",
        )

    @property
    def subject_name(self) -> str:
        return self.name
