"""Audit entries hold no personal data in clear; subject keys are keyed hashes; key files are private."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from yakuba.audit import (
    Actor,
    AuditEntry,
    create_log_keys,
    load_log_signer,
    load_log_verifier,
    load_subject_secret,
    subject_key,
)
from yakuba.errors import ConfigError, ValidationError

T0 = dt.datetime(2025, 4, 1, 18, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=9)))
ACTOR = Actor(role="issuer", instance="issuer-131016-juki", staff_id="staff-042")


def test_canonical_encoding_is_sorted_compact_utc_and_round_trips() -> None:
    entry = AuditEntry(
        event_type="issuance.completed",
        actor=ACTOR,
        time=T0,
        subject="ab" * 32,
        fields={"store": "lawson-0423", "kind": "住民票", "copies": 1, "voided": False},
    )
    data = entry.canonical_bytes()
    assert data.startswith(b'{"actor":{"instance":"issuer-131016-juki","role":"issuer","staff":"staff-042"}')
    assert b'"time":"2025-04-01T09:30:00.123456Z"' in data
    assert json.loads(data)["fields"] == {"copies": 1, "kind": "住民票", "store": "lawson-0423", "voided": False}
    assert AuditEntry.from_canonical_bytes(data) == entry
    with pytest.raises(ValidationError):
        AuditEntry.from_canonical_bytes(data.replace(b'{"actor"', b'{ "actor"'))  # not canonical


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "山田太郎"},
        {"resident_address": "x"},
        {"birth_date": "1980-01-01"},
        {"my_number": "x"},
        {"ref": "123456789012"},  # looks like an individual number
        {"ref": "card 123456789012 lost"},
        {"ref": "abc123456789012"},  # not a whole digest
        {"note": "x" * 201},
        {"Store": "x"},
        {"ratio": 0.5},
        {"line": "a\nb"},
    ],
)
def test_fields_that_would_carry_personal_data_or_free_text_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AuditEntry(event_type="issuance.requested", actor=ACTOR, time=T0, fields=fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        "a" * 20 + "123456789012" + "b" * 32,  # a SHA-256 with twelve digits in a row
        "tx-" + "123456789012" + "f" * 20,  # a transaction id (128 random bits)
    ],
)
def test_digests_and_random_ids_may_hold_twelve_digits_by_chance(value: str) -> None:
    entry = AuditEntry(event_type="footage.erased", actor=ACTOR, time=T0, fields={"sha256": value})
    assert entry.fields["sha256"] == value


def test_subject_must_be_a_keyed_hash_and_time_aware() -> None:
    with pytest.raises(ValidationError):
        AuditEntry(event_type="issuance.requested", actor=ACTOR, time=T0, subject="R-0001")
    with pytest.raises(ValidationError):
        AuditEntry(event_type="issuance.requested", actor=ACTOR, time=T0.replace(tzinfo=None))
    with pytest.raises(ValidationError):
        AuditEntry(event_type="Issuance", actor=ACTOR, time=T0)


def test_subject_key_is_keyed_and_separates_kinds() -> None:
    secret = bytes(range(32))
    key = subject_key(secret, "resident", "R-0001")
    assert len(key) == 64
    assert key == subject_key(secret, "resident", "R-0001")
    assert key != subject_key(secret, "card", "R-0001")
    assert key != subject_key(bytes(range(1, 33)), "resident", "R-0001")
    with pytest.raises(ValidationError):
        subject_key(b"short", "resident", "R-0001")


def test_log_keys_are_created_private_and_load_back(tmp_path: Path) -> None:
    origin = "yakuba/test/audit/registry-131016"
    verifier = create_log_keys(key_dir=tmp_path, log_name="registry-131016", origin=origin)
    folder = tmp_path / "audit"
    for name in ("registry-131016.key", "registry-131016.hmac"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600
    assert verifier.name == origin
    assert load_log_verifier(key_dir=tmp_path, log_name="registry-131016").vkey() == verifier.vkey()
    signer = load_log_signer(key_dir=tmp_path, log_name="registry-131016", origin=origin)
    assert signer.key_id == verifier.key_id
    assert len(load_subject_secret(key_dir=tmp_path, log_name="registry-131016")) == 32
    # Creating again keeps the existing keys.
    assert create_log_keys(key_dir=tmp_path, log_name="registry-131016", origin=origin).vkey() == verifier.vkey()
    os.chmod(folder / "registry-131016.hmac", 0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_subject_secret(key_dir=tmp_path, log_name="registry-131016")
