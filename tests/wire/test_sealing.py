"""Sealing: only this transaction's key, under exactly this binding, opens the document; any tampering fails."""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
import subprocess
import sys

import pytest

from yakuba.errors import ValidationError, VerificationError
from yakuba.wire import SealingBinding, TransactionKey, card_fingerprint, open_sealed, request_digest, seal
from yakuba.wire.sealing import ENVELOPE_OVERHEAD, INFO_PREFIX, MAX_PLAINTEXT_BYTES

DOCUMENT = b"%PDF-1.7 signed certificate " + os.urandom(4096)


@pytest.fixture
def binding() -> SealingBinding:
    return SealingBinding(
        transaction_id="01J9Z8K6Q4TX3V0M7B2N5C8D1E",
        card_fingerprint=card_fingerprint(b"card certificate DER"),
        request_digest=request_digest({"kind": "juminhyo", "copies": 1}),
        purpose="certificate-document",
    )


@pytest.fixture
def key() -> TransactionKey:
    return TransactionKey.generate()


def test_roundtrip(key: TransactionKey, binding: SealingBinding) -> None:
    envelope = seal(DOCUMENT, recipient_public=key.public_bytes(), binding=binding)
    assert key.open(envelope, binding=binding) == DOCUMENT
    assert open_sealed(envelope, key=key, binding=binding) == DOCUMENT
    assert len(envelope) == len(DOCUMENT) + ENVELOPE_OVERHEAD
    assert DOCUMENT[:64] not in envelope


def test_two_seals_of_the_same_document_differ(key: TransactionKey, binding: SealingBinding) -> None:
    first = seal(DOCUMENT, recipient_public=key.public_bytes(), binding=binding)
    second = seal(DOCUMENT, recipient_public=key.public_bytes(), binding=binding)
    assert first != second


def test_wrong_key_is_refused(key: TransactionKey, binding: SealingBinding) -> None:
    envelope = seal(DOCUMENT, recipient_public=key.public_bytes(), binding=binding)
    with pytest.raises(VerificationError):
        TransactionKey.generate().open(envelope, binding=binding)


@pytest.mark.parametrize(
    "change",
    [
        {"transaction_id": "01J9Z8K6Q4TX3V0M7B2N5C8D1F"},
        {"card_fingerprint": card_fingerprint(b"another card")},
        {"request_digest": request_digest({"kind": "juminhyo", "copies": 2})},
        {"purpose": "completion-report"},
    ],
    ids=["transaction_id", "card_fingerprint", "request_digest", "purpose"],
)
def test_each_binding_field_is_bound(key: TransactionKey, binding: SealingBinding, change: dict[str, object]) -> None:
    assert set(change) <= {f.name for f in dataclasses.fields(SealingBinding)}
    envelope = seal(DOCUMENT, recipient_public=key.public_bytes(), binding=binding)
    with pytest.raises(VerificationError) as caught:
        key.open(envelope, binding=dataclasses.replace(binding, **change))  # type: ignore[arg-type]
    assert caught.value.text_ja
    assert key.open(envelope, binding=binding) == DOCUMENT


def _bit_positions(envelope_length: int) -> dict[str, list[int]]:
    header, enc_end, tag_start = 5, 5 + 32, envelope_length - 16
    return {
        "magic": [0, 3],
        "version": [4],
        "enc": [header, header + 17, enc_end - 1],
        "ciphertext": [enc_end, (enc_end + tag_start) // 2, tag_start - 1],
        "tag": [tag_start, envelope_length - 1],
    }


@pytest.mark.parametrize("part", ["magic", "version", "enc", "ciphertext", "tag"])
def test_one_flipped_bit_in_any_part_is_refused(key: TransactionKey, binding: SealingBinding, part: str) -> None:
    envelope = seal(DOCUMENT, recipient_public=key.public_bytes(), binding=binding)
    for position in _bit_positions(len(envelope))[part]:
        for bit in (0, 7):
            tampered = bytearray(envelope)
            tampered[position] ^= 1 << bit
            with pytest.raises(VerificationError):
                key.open(bytes(tampered), binding=binding)


def test_truncated_and_extended_envelopes_are_refused(key: TransactionKey, binding: SealingBinding) -> None:
    envelope = seal(DOCUMENT, recipient_public=key.public_bytes(), binding=binding)
    for bad in (envelope[:-1], envelope + b"\x00", envelope[: ENVELOPE_OVERHEAD - 1], b""):
        with pytest.raises(VerificationError):
            key.open(bad, binding=binding)


def test_info_is_versioned_and_canonical(binding: SealingBinding) -> None:
    info = binding.info()
    assert info.startswith(INFO_PREFIX)
    assert info[len(INFO_PREFIX) :].startswith(b'{"card_fingerprint":"')


def test_plaintext_size_limit() -> None:
    key = TransactionKey.generate()
    binding = SealingBinding(
        transaction_id="t-1", card_fingerprint="0" * 64, request_digest=bytes(32), purpose="certificate-document"
    )
    with pytest.raises(ValidationError):
        seal(b"\x00" * (MAX_PLAINTEXT_BYTES + 1), recipient_public=key.public_bytes(), binding=binding)


@pytest.mark.parametrize("public", [b"\x01" * 31, b"\x01" * 33, b""])
def test_malformed_recipient_key_is_refused(binding: SealingBinding, public: bytes) -> None:
    with pytest.raises(ValidationError):
        seal(DOCUMENT, recipient_public=public, binding=binding)


def test_low_order_recipient_key_is_refused(binding: SealingBinding) -> None:
    with pytest.raises(VerificationError):
        seal(DOCUMENT, recipient_public=bytes(32), binding=binding)


@pytest.mark.parametrize(
    "fields",
    [
        {"transaction_id": ""},
        {"transaction_id": "x" * 129},
        {"transaction_id": "a b"},
        {"card_fingerprint": "A" * 64},
        {"card_fingerprint": "0" * 63},
        {"request_digest": bytes(31)},
        {"purpose": "Certificate"},
    ],
)
def test_malformed_binding_is_refused(fields: dict[str, object]) -> None:
    good: dict[str, object] = {
        "transaction_id": "t-1",
        "card_fingerprint": "0" * 64,
        "request_digest": bytes(32),
        "purpose": "certificate-document",
    }
    with pytest.raises(ValidationError):
        SealingBinding(**{**good, **fields})  # type: ignore[arg-type]


def test_private_key_cannot_leave_the_object(key: TransactionKey) -> None:
    assert "private" in repr(key)
    assert not any(name for name in dir(key) if "private_bytes" in name or name == "private_key")
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.deepcopy(key)
    assert len(key.public_bytes()) == 32


def test_sealing_and_digests_load_without_web_framework_client_or_orm() -> None:
    """Kiosk and issuer logic use these recipes; importing them must not drag in the transport stack."""
    script = (
        "import sys, yakuba.wire.sealing, yakuba.wire.digest\n"
        "from yakuba.wire import seal, request_digest\n"
        "print(sorted(m for m in ('fastapi', 'starlette', 'aiohttp', 'uvicorn', 'sqlalchemy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
