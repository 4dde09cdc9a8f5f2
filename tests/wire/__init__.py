"""Tests of yakuba.wire."""
