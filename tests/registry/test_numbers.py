"""Check digits of 個人番号 and 住民票コード."""

from __future__ import annotations

import random

import pytest

from yakuba.errors import ValidationError
from yakuba.registry import check_juminhyo_code, check_my_number
from yakuba.registry._numbers import check_digit, new_juminhyo_code, new_my_number


def test_published_example_my_number() -> None:
    # The worked example circulated with the ordinance's formula: 98320567321 -> check digit 4.
    assert check_digit("98320567321") == 4
    assert check_my_number("983205673214") == "983205673214"


def test_remainder_zero_or_one_gives_zero() -> None:
    assert check_digit("00000000000") == 0
    assert check_digit("00000000001") == 9  # 1 x 2 = 2, remainder 2 -> 11 - 2
    assert check_digit("00000000045") == 0  # 4 x 3 + 5 x 2 = 22, remainder 0
    assert check_digit("00000000006") == 0  # 6 x 2 = 12, remainder 1


@pytest.mark.parametrize("bad", ["983205673215", "98320567321", "98320567321X", "９８３２０５６７３２１４"])
def test_bad_my_numbers(bad: str) -> None:
    with pytest.raises(ValidationError):
        check_my_number(bad)


def test_generated_numbers_are_well_formed() -> None:
    rng = random.Random(3)
    for _ in range(200):
        check_my_number(new_my_number(rng))
        code = new_juminhyo_code(rng)
        assert len(code) == 11
        check_juminhyo_code(code)
    with pytest.raises(ValidationError):
        check_juminhyo_code("12345678901" if check_digit("1234567890") != 1 else "12345678900")
