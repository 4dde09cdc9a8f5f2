"""Shared fixtures: one rendering engine and one throwaway city PKI per test session."""

from __future__ import annotations

import datetime as dt

import pytest

from yakuba.clock import JST
from yakuba.documents import (
    SAMPLE_CITY,
    DocumentKind,
    DocumentSigner,
    DocumentTrust,
    IssuedDocument,
    RenderEngine,
    issue_document,
    sample_pki,
    sample_request,
)

ISSUED_AT = dt.datetime(2025, 11, 26, 10, 30, tzinfo=JST)
"""A fixed issue time (令和7年11月26日): tests are deterministic apart from signature randomness."""


@pytest.fixture(scope="session")
def engine() -> RenderEngine:
    return RenderEngine.create()


@pytest.fixture(scope="session")
def city_pki() -> tuple[DocumentSigner, DocumentTrust]:
    return sample_pki(SAMPLE_CITY.code, now=ISSUED_AT)


@pytest.fixture(scope="session")
def signer(city_pki: tuple[DocumentSigner, DocumentTrust]) -> DocumentSigner:
    return city_pki[0]


@pytest.fixture(scope="session")
def trust(city_pki: tuple[DocumentSigner, DocumentTrust]) -> DocumentTrust:
    return city_pki[1]


@pytest.fixture(scope="session")
def issued(engine: RenderEngine, signer: DocumentSigner) -> dict[DocumentKind, IssuedDocument]:
    """One issued document of every kind (seed 11), shared by the read-only tests."""
    return {
        kind: issue_document(sample_request(kind, seed=11, issued_at=ISSUED_AT), engine=engine, signer=signer)
        for kind in DocumentKind
    }
