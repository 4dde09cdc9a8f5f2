"""`yakuba audit ...`: init, integrate, show, prove and verify, including a tampered log's first bad index."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from yakuba.audit import Actor, AuditEntry, leaf_hash, open_deployment_log, verify_inclusion
from yakuba.audit._checkpoint import Checkpoint
from yakuba.audit._note import parse_note
from yakuba.audit._store._tables import entries
from yakuba.cli._audit import app
from yakuba.config import Deployment, write_sample
from yakuba.errors import ConfigError

LOG = "kodaira-issuer-juki"


@pytest.fixture
def dep(tmp_path: Path) -> Deployment:
    return write_sample(tmp_path / "dep")


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "220"})
    return result.exit_code, result.output


def _populate(dep: Deployment, n: int) -> None:
    code, out = _run("init", "-d", str(dep.root), "-l", LOG)
    assert code == 0, out
    opened = open_deployment_log(dep, LOG)
    actor = Actor(role="issuer", instance=LOG)
    t0 = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    with opened.log.engine.begin() as conn:
        for i in range(n):
            opened.log.append(
                conn,
                AuditEntry(
                    event_type="issuance.requested",
                    actor=actor,
                    time=t0 + dt.timedelta(seconds=i),
                    fields={"store": f"store-{i}", "kind": "juminhyo"},
                ),
            )
    code, out = _run("integrate", "-d", str(dep.root), "-l", LOG)
    assert code == 0, out
    assert f"size {n}" in out


def test_show_prove_and_verify_a_healthy_log(dep: Deployment) -> None:
    _populate(dep, 12)
    code, out = _run("show", "-d", str(dep.root), "-l", LOG, "--json")
    shown = json.loads(out)
    assert shown["tree_size"] == 12
    assert len(shown["entries"]) == 12
    assert shown["checkpoint"].startswith(f"yakuba/{dep.deployment.name}/audit/{LOG}\n12\n")
    code, out = _run("show", "-d", str(dep.root), "-l", LOG, "--from", "10")
    assert code == 0
    assert "store-11" in out
    assert "store-3" not in out
    code, out = _run("prove", "5", "-d", str(dep.root), "-l", LOG)
    assert code == 0, out
    proof = json.loads(out)
    cp = Checkpoint.parse_body(parse_note(proof["checkpoint"]).text)
    leaf = base64.b64decode(proof["leaf_hash"])
    body = AuditEntry.from_canonical_bytes(
        json.dumps(proof["entry"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert leaf_hash(body.canonical_bytes()) == leaf
    verify_inclusion(
        leaf=leaf,
        index=5,
        size=cp.size,
        proof=[base64.b64decode(h) for h in proof["inclusion_proof"]],
        root=cp.root_hash,
    )
    code, out = _run("verify", "-d", str(dep.root), "-l", LOG)
    assert code == 0, out
    assert "OK" in out
    assert "12 entries" in out


def test_verify_by_database_url_and_key_file_reports_the_first_bad_entry(dep: Deployment) -> None:
    _populate(dep, 9)
    opened = open_deployment_log(dep, LOG)
    url = str(opened.log.engine.url)
    vkey = dep.key_dir / "audit" / f"{LOG}.vkey"
    code, out = _run("verify", "--database", url, "--key", str(vkey))
    assert code == 0, out
    with opened.log.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.leaf_index == 4).values(body=b'{"v":1}'))
    code, out = _run("verify", "--database", url, "--key", str(vkey))
    assert code == 1
    assert "FAILED at entry 4" in out


def test_verify_without_a_key_or_a_log_name_is_refused(dep: Deployment) -> None:
    _populate(dep, 1)
    url = str(open_deployment_log(dep, LOG).log.engine.url)
    with pytest.raises(ConfigError, match="public key"):
        _run("verify", "--database", url)
    with pytest.raises(ConfigError, match="--deployment and --log"):
        _run("show")
    with pytest.raises(ConfigError, match="no audit log named"):
        _run("show", "-d", str(dep.root), "-l", "nowhere")
