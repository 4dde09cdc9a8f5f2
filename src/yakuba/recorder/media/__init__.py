"""Footage media through PyAV: writing synthetic card dumps (reading and checking segments is `recorder._verify`)."""

from yakuba.recorder.media._card import CITY_ROADS, CardSpec, make_card

__all__ = ["CITY_ROADS", "CardSpec", "make_card"]
