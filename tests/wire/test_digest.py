"""Canonical request digests: one spelling per value, any change of value changes the digest."""

from __future__ import annotations

import hashlib
import json

import pytest

from yakuba.errors import ValidationError
from yakuba.wire import canonical_json, request_digest
from yakuba.wire.digest import MAX_NESTING

REQUEST = {"kind": "juminhyo", "city": "132292", "copies": 1, "options": {"household": True, "honseki": False}}


def test_key_order_and_whitespace_do_not_change_the_digest() -> None:
    reordered = json.loads(
        '{ "options": {"honseki": false, "household": true},\n "copies": 1, "city": "132292",   "kind": "juminhyo" }'
    )
    assert request_digest(reordered) == request_digest(REQUEST)
    assert canonical_json(REQUEST) == (
        b'{"city":"132292","copies":1,"kind":"juminhyo","options":{"honseki":false,"household":true}}'
    )


@pytest.mark.parametrize(
    "changed",
    [
        {**REQUEST, "copies": 2},
        {**REQUEST, "city": "132110"},
        {**REQUEST, "options": {"household": True, "honseki": True}},
        {**REQUEST, "extra": None},
        {k: v for k, v in REQUEST.items() if k != "copies"},
        {**REQUEST, "copies": "1"},
    ],
)
def test_any_value_change_changes_the_digest(changed: dict[str, object]) -> None:
    assert request_digest(changed) != request_digest(REQUEST)


def test_matches_rfc_8785_by_hand() -> None:
    # RFC 8785 section 3.2.2 (its strings and literals; numbers are left out, we refuse floats) and the key
    # ordering example of section 3.2.3 (UTF-16 code units: U+1F600 sorts before U+FB33).
    obj = {
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","literals":[null,true,false],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",'
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode()
    assert canonical_json(obj) == expected
    assert request_digest(obj) == hashlib.sha256(expected).digest()


@pytest.mark.parametrize("value", [1.5, 2.0, float("nan")])
def test_floats_are_refused_even_integral_ones(value: float) -> None:
    with pytest.raises(ValidationError, match="floating-point"):
        request_digest({"fee": value})


@pytest.mark.parametrize(
    "bad",
    [{"n": 2**53}, {1: "x"}, {"b": b"bytes"}, {"s": {1, 2}}],
)
def test_values_outside_json_are_refused_without_echoing_them(bad: dict[object, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        canonical_json(bad)
    assert str(2**53) not in caught.value.text_en


def test_nesting_is_bounded() -> None:
    deep: object = 1
    for _ in range(MAX_NESTING + 1):
        deep = [deep]
    with pytest.raises(ValidationError, match="nested"):
        canonical_json(deep)
    shallow: object = 1
    for _ in range(MAX_NESTING):
        shallow = [shallow]
    assert canonical_json(shallow).startswith(b"[[")
