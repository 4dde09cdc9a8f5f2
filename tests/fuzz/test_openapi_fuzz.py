"""schemathesis against every service's OpenAPI document: requests generated from the schema (valid and
invalid), each sent over mTLS by a legitimate caller of that service. No answer is a 5xx, the service keeps
answering, and a refused request (4xx) changes nothing in any database of the deployment."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from yakuba.config import Role
from yakuba.network._roles import RoleInstance, create_role_app, find_instance, health_caller

from .conftest import FuzzChain

EXAMPLES = 12
"""Generated requests per operation and mode: enough to hit every field's edge cases on CI in seconds."""

SERVICES = [
    "center-1",
    "jpki-1",
    "midori-hq",
    "nishitokyo-hall-gw",
    "nishitokyo-forwarder",
    "nishitokyo-issuer-juki",
    "nishitokyo-issuer-koseki",
]
"""One instance of every role that serves an API (a kiosk serves only its health check to its HQ)."""


def _schema(chain: FuzzChain, instance: str) -> dict[str, Any]:
    target = find_instance(chain.dep, instance)
    app = create_role_app(chain.dep, RoleInstance(role=target.role, config=target.config), clock=chain.clock)
    schema: dict[str, Any] = app.openapi()
    return schema


def _idempotency(case: Any) -> dict[str, str]:
    """The header the submission routes ask for: the body's transaction id (or a completion batch's batch id),
    when it has one (so generated bodies get past the header check and into the body's validation)."""
    body = case.body if isinstance(case.body, dict) else {}
    inner = body.get("request") if isinstance(body.get("request"), dict) else body
    tx = inner.get("transaction_id") if isinstance(inner, dict) else None
    tx = body.get("batch_id", tx)
    return {"Idempotency-Key": tx} if isinstance(tx, str) and tx.isascii() and tx.isprintable() else {}


def _fuzz(
    chain: FuzzChain,
    session: requests.Session,
    base_url: str,
    operation: Any,
    mode: GenerationMode,
    seen: dict[int, int],
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        before = chain.state()
        try:
            response = case.call(base_url=base_url, session=session, headers=_idempotency(case), timeout=30)
        except requests.exceptions.InvalidHeader:
            return  # the generated header cannot even be sent (a client-side refusal)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (operation.label, response.status_code, response.text[:300])
        if 400 <= response.status_code < 500:
            body = response.json()
            assert set(body) == {"error", "message", "message_ja"}, body
            after = chain.state()
            changed = sorted(k for k in after.keys() | before.keys() if after.get(k) != before.get(k))
            assert not changed, f"{operation.label}: a refused request ({response.status_code}) changed {changed}"

    try:
        check()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to get wrong (no parameters, no body)


@pytest.mark.parametrize("instance", SERVICES)
def test_generated_requests_never_get_a_5xx_nor_change_state_when_refused(fuzz_chain: FuzzChain, instance: str) -> None:
    caller, segment, role = health_caller(fuzz_chain.dep, instance)
    base_url = find_instance(fuzz_chain.dep, instance).config.base_url
    schema = schemathesis.openapi.from_dict(_schema(fuzz_chain, instance))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"{instance} documents no operation"
    seen: dict[int, int] = {}
    with fuzz_chain.session(caller, segment, role) as session:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(fuzz_chain, session, base_url, operation, mode, seen)
        assert any(400 <= code < 500 for code in seen), seen
        # Still serving after everything: its health check answers.
        health = session.get(f"{base_url}/v1/health", timeout=30)
        assert health.status_code == 200, health.text


def test_every_service_documents_its_operations(fuzz_chain: FuzzChain) -> None:
    """The fuzzing above covers what the documents list; each document lists the role's routes."""
    for instance in SERVICES:
        paths = _schema(fuzz_chain, instance)["paths"]
        assert "/v1/health" in paths, instance
        if find_instance(fuzz_chain.dep, instance).role in (Role.CENTER, Role.STOREHQ):
            assert any("issuances" in p for p in paths), (instance, sorted(paths))
        json.dumps(paths)  # serialisable as served
