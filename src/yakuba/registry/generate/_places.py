"""Real town names (町名) of the cities the generator knows, with their number of 丁目 (0: a 番地 town)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BUILDING_STEMS", "KNOWN_CITIES", "CityPlaces", "neighbour_of", "places_of"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CityPlaces:
    """A city's prefecture, name and towns as (町名, number of 丁目)."""

    code: str
    prefecture: str
    name: str
    towns: tuple[tuple[str, int], ...]


NISHITOKYO = CityPlaces(
    code="132292",
    prefecture="東京都",
    name="西東京市",
    towns=(
        ("田無町", 7), ("南町", 6), ("北原町", 3), ("芝久保町", 5), ("西原町", 5), ("緑町", 3),
        ("谷戸町", 3), ("ひばりが丘", 4), ("ひばりが丘北", 4), ("住吉町", 6), ("栄町", 3),
        ("下保谷", 5), ("保谷町", 6), ("東町", 6), ("中町", 6), ("泉町", 6), ("東伏見", 6),
        ("富士町", 6), ("柳沢", 6), ("新町", 6), ("向台町", 6), ("北町", 6),
    ),
)  # fmt: skip

KODAIRA = CityPlaces(
    code="132110",
    prefecture="東京都",
    name="小平市",
    towns=(
        ("小川町", 2), ("小川東町", 5), ("小川西町", 5), ("学園東町", 3), ("学園西町", 3),
        ("花小金井", 8), ("花小金井南町", 3), ("鈴木町", 2), ("天神町", 4), ("仲町", 0),
        ("喜平町", 3), ("上水本町", 6), ("上水南町", 4), ("上水新町", 3), ("美園町", 3),
        ("大沼町", 7), ("回田町", 0), ("御幸町", 0), ("津田町", 3), ("栄町", 3), ("たかの台", 0),
    ),
)  # fmt: skip

KNOWN_CITIES = {city.code: city for city in (NISHITOKYO, KODAIRA)}

BUILDING_STEMS = ("ハイツ", "コーポ", "メゾン", "グランドール", "パークハウス", "レジデンス", "荘", "ヒルズ")
"""Generic apartment-name words; combined with the town name and a room number."""


def places_of(city_code: str) -> CityPlaces | None:
    """The places of CITY_CODE, or None when the generator has no town list for it."""
    return KNOWN_CITIES.get(city_code)


def neighbour_of(city_code: str) -> CityPlaces:
    """The other known city: where people move to, and where some residents keep their 本籍."""
    return next(c for code, c in KNOWN_CITIES.items() if code != city_code)
