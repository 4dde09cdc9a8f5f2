"""Check digits of 個人番号 (My Number) and 住民票コード, as the ministerial ordinances define them."""

from __future__ import annotations

import random

from yakuba.errors import ValidationError

__all__ = [
    "check_digit",
    "check_juminhyo_code",
    "check_my_number",
    "new_juminhyo_code",
    "new_my_number",
]

MY_NUMBER_LENGTH = 12
"""個人番号: 11 digits and a check digit (行政手続における特定の個人を識別するための番号の利用等に関する法律)."""

JUMINHYO_CODE_LENGTH = 11
"""住民票コード: 10 random digits and a check digit (住民基本台帳法施行規則 第1条)."""


def check_digit(body: str) -> int:
    """The modulus-11 check digit over BODY (digits, most significant first).

    総務省令第85号 第5条 (個人番号) and 平成14年総務省告示第436号 (住民票コード) use the same rule:
    with Pn the n-th digit counted from the least significant (n = 1), Qn = n + 1 for n <= 6 and
    n - 5 for n >= 7; r = sum(Pn * Qn) mod 11; the check digit is 0 when r <= 1, else 11 - r.
    """
    if not body.isascii() or not body.isdigit():
        raise ValidationError("a number body has digits only", ja="番号は数字のみです")
    total = 0
    for n, digit in enumerate(reversed(body), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += int(digit) * weight
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def _check(number: str, length: int, what_en: str, what_ja: str) -> str:
    if len(number) != length or not number.isascii() or not number.isdigit():
        raise ValidationError(f"{what_en} must be {length} digits", ja=f"{what_ja}は{length}桁の数字です")
    if check_digit(number[:-1]) != int(number[-1]):
        raise ValidationError(f"{what_en} has a wrong check digit", ja=f"{what_ja}の検査数字が正しくありません")
    return number


def check_my_number(number: str) -> str:
    """Return NUMBER if it is a well-formed 個人番号, else raise ValidationError."""
    return _check(number, MY_NUMBER_LENGTH, "a My Number", "個人番号")


def check_juminhyo_code(code: str) -> str:
    """Return CODE if it is a well-formed 住民票コード, else raise ValidationError."""
    return _check(code, JUMINHYO_CODE_LENGTH, "a resident record code", "住民票コード")


def _new(rng: random.Random, length: int) -> str:
    # The leading digit is never 0 so the number survives any careless integer round trip.
    body = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(length - 2))
    return body + str(check_digit(body))


def new_my_number(rng: random.Random) -> str:
    """A random, well-formed 個人番号 (synthetic: real numbers are derived by J-LIS from the 住民票コード)."""
    return _new(rng, MY_NUMBER_LENGTH)


def new_juminhyo_code(rng: random.Random) -> str:
    """A random, well-formed 住民票コード."""
    return _new(rng, JUMINHYO_CODE_LENGTH)
