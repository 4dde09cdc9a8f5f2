"""Name pools from Faker's locale data: Japanese names with their kana readings, foreign residents' names."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from faker.providers.person.en_US import Provider as EnUs
from faker.providers.person.ja_JP import Provider as JaJp
from faker.providers.person.pt_BR import Provider as PtBr
from faker.providers.person.vi_VN import Provider as ViVn
from faker.providers.person.zh_CN import Provider as ZhCn

from yakuba.registry._values import PersonName, Sex

__all__ = ["FOREIGN_NATIONALITIES", "NamePools"]

FOREIGN_NATIONALITIES = (("CN", 40), ("VN", 25), ("US", 15), ("BR", 20))
"""Nationalities of generated foreign residents with their weights (a Tokyo-suburb mix, simplified)."""


def _ascii_upper(text: str) -> str:
    """A foreign name as the residence record writes it from the passport: plain capitals (Nguyễn -> NGUYEN)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


@dataclass(frozen=True, slots=True)
class _Pair:
    kanji: str
    kana: str


class NamePools:
    """Names drawn from Faker's data: every Japanese name comes with the reading Faker records for it."""

    @cached_property
    def _surnames(self) -> tuple[list[_Pair], list[float]]:
        pairs = list(JaJp.last_name_pairs.items())
        return [_Pair(p[0][0], p[0][1]) for p in pairs], [float(w) for _p, w in pairs]

    @cached_property
    def _given(self) -> dict[Sex, list[_Pair]]:
        return {
            Sex.MALE: [_Pair(k, kana) for k, kana, _r in JaJp.first_name_male_pairs],
            Sex.FEMALE: [_Pair(k, kana) for k, kana, _r in JaJp.first_name_female_pairs],
        }

    def surname(self, rng: random.Random) -> tuple[str, str]:
        """A surname and its katakana reading, weighted by how common it is."""
        pairs, weights = self._surnames
        pair = rng.choices(pairs, weights=weights)[0]
        return pair.kanji, pair.kana

    def japanese(self, rng: random.Random, sex: Sex, surname: tuple[str, str]) -> PersonName:
        """A Japanese name: SURNAME (kanji, kana) and a given name for SEX, each with its reading."""
        given = rng.choice(self._given[sex])
        return PersonName(family=surname[0], given=given.kanji, family_kana=surname[1], given_kana=given.kana)

    def foreign(self, rng: random.Random, nationality: str, sex: Sex, *, long: bool = False) -> PersonName:
        """A foreign resident's name in capitals, no kana; LONG makes one that overflows a certificate's name box."""
        family: Sequence[str]
        given: Sequence[str]
        if nationality == "CN":
            family, given = list(ZhCn.last_romanized_names), list(ZhCn.first_romanized_names)
        elif nationality == "VN":
            family = list(ViVn.last_names)
            given = list(ViVn.first_names_male if sex is Sex.MALE else ViVn.first_names_female)
        elif nationality == "BR":
            family = list(PtBr.last_names)
            given = list(PtBr.first_names_male if sex is Sex.MALE else PtBr.first_names_female)
        else:
            family = list(EnUs.last_names)
            given = list(EnUs.first_names_male if sex is Sex.MALE else EnUs.first_names_female)
        parts_family = rng.sample(family, 3 if long else 1)
        parts_given = rng.sample(given, 4 if long else 1)
        return PersonName(family=_ascii_upper(" ".join(parts_family)), given=_ascii_upper(" ".join(parts_given)))
