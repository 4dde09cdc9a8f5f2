"""Signed notes, checkpoints and witness cosignatures: C2SP formats, Go's reference vector, refusals."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yakuba.audit import (
    Checkpoint,
    CheckpointError,
    CosignatureSigner,
    ForkError,
    MemoryWitnessState,
    NoteSigner,
    NoteVerifier,
    ProofError,
    Witness,
    WitnessConflictError,
    leaf_hash,
    parse_verifier_key,
    verify_checkpoint,
    verify_consistency_between,
    verify_entry_inclusion,
)
from yakuba.audit._merkle import CompactRange
from yakuba.audit._note import open_note, parse_note, sign_note
from yakuba.clock import FixedClock

# golang.org/x/mod/sumdb/note's documented example key and note (an independent implementation).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ORIGIN = "yakuba/test/audit/log"


def _go_signer() -> NoteSigner:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[-1])[1:]
    return NoteSigner(name="PeterNeumann", private_key=Ed25519PrivateKey.from_private_bytes(seed))


def test_go_reference_note_verifies_and_is_reproduced_byte_for_byte() -> None:
    verifier = parse_verifier_key(GO_VKEY)
    assert isinstance(verifier, NoteVerifier)
    assert verifier.vkey() == GO_VKEY
    note, ok = open_note(GO_NOTE, [verifier])
    assert note.text == GO_TEXT
    assert ok == [verifier]
    signer = _go_signer()
    assert signer.key_id == 0xC74F20A3
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE  # Ed25519 is deterministic


def test_go_note_altered_or_signed_by_another_key_is_refused() -> None:
    verifier = parse_verifier_key(GO_VKEY)
    with pytest.raises(CheckpointError):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), [verifier])
    other = NoteSigner.generate(name="PeterNeumann").verifier()
    with pytest.raises(CheckpointError, match="no signature from a known key"):
        open_note(GO_NOTE, [other])  # same name, different key id: ignored, so nothing verifies


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # id mismatch
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper-case id
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a3+!!!!",
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
    ],
)
def test_malformed_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(CheckpointError):
        parse_verifier_key(bad)


def test_checkpoint_note_format_round_trip() -> None:
    signer = NoteSigner.generate(name=ORIGIN)
    cp = Checkpoint(origin=ORIGIN, size=20852163, root_hash=bytes(range(32)))
    note = cp.sign(signer)
    root_b64 = base64.b64encode(bytes(range(32))).decode()
    head, sig_line = note.split("\n\n")
    assert head == f"{ORIGIN}\n20852163\n{root_b64}"
    assert sig_line.startswith(f"— {ORIGIN} ")
    assert sig_line.endswith("\n")
    assert sig_line.count("\n") == 1
    blob = base64.b64decode(sig_line.split(" ")[2])
    assert int.from_bytes(blob[:4], "big") == signer.key_id
    assert len(blob) == 4 + 64
    got = verify_checkpoint(note, log_key=signer.verifier())
    assert got.checkpoint == cp
    assert parse_note(note).format() == note
    # The vkey round-trips and verifies the same note.
    verify_checkpoint(note, log_key=parse_verifier_key(signer.verifier().vkey()))  # type: ignore[arg-type]


def test_checkpoint_with_bad_signature_wrong_key_or_origin_is_refused() -> None:
    signer = NoteSigner.generate(name=ORIGIN)
    note = Checkpoint(origin=ORIGIN, size=5, root_hash=b"\x01" * 32).sign(signer)
    # A changed size under the same signature.
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_checkpoint(note.replace("\n5\n", "\n6\n"), log_key=signer.verifier())
    # A flipped signature byte.
    head, line = note.split("\n\n")
    name, b64 = line.rstrip("\n").split(" ")[1:]
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    forged = f"{head}\n\n— {name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(CheckpointError):
        verify_checkpoint(forged, log_key=signer.verifier())
    # Signed by another key of the same name.
    impostor = NoteSigner.generate(name=ORIGIN)
    with pytest.raises(CheckpointError):
        verify_checkpoint(
            Checkpoint(origin=ORIGIN, size=5, root_hash=b"\x01" * 32).sign(impostor), log_key=signer.verifier()
        )
    # A head naming another origin, even under this log's key (a key shared or reused by mistake).
    with pytest.raises(CheckpointError, match="another log"):
        verify_checkpoint(
            Checkpoint(origin="yakuba/test/audit/other", size=5, root_hash=b"\x01" * 32).sign(signer),
            log_key=signer.verifier(),
        )


@pytest.mark.parametrize(
    "body",
    [
        "origin\n05\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",  # leading zero
        "origin\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n5\nAAAA\n",  # short root
        "origin\n5\n",  # no root line
        "\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",  # empty origin
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse_body(body)


def _tree(n: int) -> tuple[list[bytes], bytes]:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    c = CompactRange()
    for h in leaves:
        c.append(h)
    return leaves, c.root()


def test_inclusion_verifier_checks_the_checkpoint_signature_too(memory_tiles: type[Any]) -> None:
    from yakuba.audit._merkle import consistency_proof, inclusion_proof

    signer = NoteSigner.generate(name=ORIGIN)
    leaves, root = _tree(10)
    tiles = memory_tiles(leaves)
    note = Checkpoint(origin=ORIGIN, size=10, root_hash=root).sign(signer)
    proof = inclusion_proof(3, 10, tiles)
    verify_entry_inclusion(note=note, log_key=signer.verifier(), leaf_hash=leaves[3], index=3, proof=proof)
    # A correct proof against a root the log never signed is worthless.
    unsigned = Checkpoint(origin=ORIGIN, size=10, root_hash=root).sign(NoteSigner.generate(name=ORIGIN))
    with pytest.raises(CheckpointError):
        verify_entry_inclusion(note=unsigned, log_key=signer.verifier(), leaf_hash=leaves[3], index=3, proof=proof)
    with pytest.raises(ProofError):
        verify_entry_inclusion(note=note, log_key=signer.verifier(), leaf_hash=leaves[4], index=3, proof=proof)
    # Consistency between two signed heads; a same-size different root is a fork.
    _l7, root7 = _tree(7)
    old = Checkpoint(origin=ORIGIN, size=7, root_hash=root7).sign(signer)
    verify_consistency_between(
        old_note=old, new_note=note, log_key=signer.verifier(), proof=consistency_proof(7, 10, tiles)
    )
    fork = Checkpoint(origin=ORIGIN, size=10, root_hash=b"\x07" * 32).sign(signer)
    with pytest.raises(ForkError):
        verify_consistency_between(old_note=note, new_note=fork, log_key=signer.verifier(), proof=[])


@pytest.fixture
def witness_setup() -> tuple[Witness, NoteSigner, CosignatureSigner, FixedClock]:
    log_signer = NoteSigner.generate(name=ORIGIN)
    cosigner = CosignatureSigner.generate(name="center.example/witness")
    clock = FixedClock(dt.datetime(2025, 4, 1, tzinfo=dt.UTC))
    witness = Witness(signer=cosigner, logs={ORIGIN: log_signer.verifier()}, state=MemoryWitnessState(), clock=clock)
    return witness, log_signer, cosigner, clock


def test_witness_cosigns_consistent_checkpoints_in_the_c2sp_format(
    witness_setup: tuple[Witness, NoteSigner, CosignatureSigner, FixedClock], memory_tiles: type[Any]
) -> None:
    from yakuba.audit._merkle import consistency_proof

    witness, log_signer, cosigner, clock = witness_setup
    leaves, _root = _tree(40)
    tiles = memory_tiles(leaves)
    notes = {n: Checkpoint(origin=ORIGIN, size=n, root_hash=_tree(n)[1]).sign(log_signer) for n in (5, 17, 40)}
    sig = witness.add_checkpoint(notes[5], old_size=0, proof=[])
    assert witness.known_size(ORIGIN) == 5
    clock.advance(dt.timedelta(seconds=30))
    sig = witness.add_checkpoint(notes[17], old_size=5, proof=consistency_proof(5, 17, tiles))
    cosigned = parse_note(notes[17]).with_signature(sig).format()
    # The line is `— <name> base64(keyid || u64 timestamp || sig)`; clients need log key AND witness key.
    blob = base64.b64decode(cosigned.rstrip("\n").split("\n")[-1].split(" ")[2])
    assert int.from_bytes(blob[:4], "big") == cosigner.key_id
    assert int.from_bytes(blob[4:12], "big") == int(clock.now().timestamp())
    got = verify_checkpoint(cosigned, log_key=log_signer.verifier(), witnesses=[cosigner.verifier()], quorum=1)
    assert got.witnesses == ("center.example/witness",)
    with pytest.raises(CheckpointError, match="witness cosignatures"):
        verify_checkpoint(notes[17], log_key=log_signer.verifier(), witnesses=[cosigner.verifier()], quorum=1)
    # The cosigned message is domain separated: the same signature does not verify as a plain note sig.
    assert parse_verifier_key(cosigner.verifier().vkey()).key_id == cosigner.key_id


def test_witness_refuses_a_fork_a_rollback_a_stale_size_and_foreign_signatures(
    witness_setup: tuple[Witness, NoteSigner, CosignatureSigner, FixedClock], memory_tiles: type[Any]
) -> None:
    from yakuba.audit._merkle import consistency_proof

    witness, log_signer, _cosigner, _clock = witness_setup
    _leaves, root = _tree(20)
    witness.add_checkpoint(Checkpoint(origin=ORIGIN, size=20, root_hash=root).sign(log_signer), old_size=0, proof=[])
    # A second history: 30 leaves whose first 20 differ from what the witness saw.
    other = [leaf_hash(b"x" + i.to_bytes(4, "big")) for i in range(30)]
    other_tiles = memory_tiles(other)
    _o, _other_root = _tree(0)
    c = CompactRange()
    for h in other:
        c.append(h)
    forked = Checkpoint(origin=ORIGIN, size=30, root_hash=c.root()).sign(log_signer)
    with pytest.raises(ForkError):
        witness.add_checkpoint(forked, old_size=20, proof=consistency_proof(20, 30, other_tiles))
    # Same size, different root.
    with pytest.raises(ForkError):
        witness.add_checkpoint(
            Checkpoint(origin=ORIGIN, size=20, root_hash=b"\x09" * 32).sign(log_signer), old_size=20, proof=[]
        )
    # Smaller than seen (rollback).
    _l, root10 = _tree(10)
    with pytest.raises((ForkError, WitnessConflictError)):
        witness.add_checkpoint(
            Checkpoint(origin=ORIGIN, size=10, root_hash=root10).sign(log_signer), old_size=20, proof=[]
        )
    # A proof from a size the witness never saw.
    good_leaves, good_root = _tree(25)
    with pytest.raises(WitnessConflictError) as info:
        witness.add_checkpoint(
            Checkpoint(origin=ORIGIN, size=25, root_hash=good_root).sign(log_signer),
            old_size=10,
            proof=consistency_proof(10, 25, memory_tiles(good_leaves)),
        )
    assert info.value.known_size == 20
    # Signed by someone else, or for a log the witness does not serve.
    with pytest.raises(CheckpointError):
        witness.add_checkpoint(
            Checkpoint(origin=ORIGIN, size=25, root_hash=good_root).sign(NoteSigner.generate(name=ORIGIN)),
            old_size=20,
            proof=consistency_proof(20, 25, memory_tiles(good_leaves)),
        )
    stranger = NoteSigner.generate(name="yakuba/test/audit/stranger")
    with pytest.raises(CheckpointError, match="does not serve"):
        witness.add_checkpoint(
            Checkpoint(origin="yakuba/test/audit/stranger", size=1, root_hash=root).sign(stranger),
            old_size=0,
            proof=[],
        )
    assert witness.known_size(ORIGIN) == 20  # nothing refused moved the witness
    witness.add_checkpoint(
        Checkpoint(origin=ORIGIN, size=25, root_hash=good_root).sign(log_signer),
        old_size=20,
        proof=consistency_proof(20, 25, memory_tiles(good_leaves)),
    )
    assert witness.known_size(ORIGIN) == 25
