"""Footage media through PyAV: reading times and decoding segments, and writing synthetic card dumps."""

from yakuba.recorder.media._card import CITY_ROADS, CardSpec, make_card
from yakuba.recorder.media._probe import MAX_SEGMENT, ProbedSegment, probe_segment

__all__ = ["CITY_ROADS", "MAX_SEGMENT", "CardSpec", "ProbedSegment", "make_card", "probe_segment"]
