"""`yakuba demo`, the main job of the README, runs end to end and leaves verifiable certificates behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from yakuba.documents import DocumentTrust, verify_document

DEMO_TIMEOUT_S = 600
"""A generous bound for the whole demo on a loaded 2-core machine (it takes well under a minute alone)."""


def test_demo_issues_every_kind_and_runs_the_recorder(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "yakuba", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=DEMO_TIMEOUT_S,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Demo finished" in result.stdout
    pdfs = sorted((out / "printed").rglob("*.pdf"))
    kinds = {pdf.parent.name.split("-", 1)[1].rsplit("-", 1)[0] for pdf in pdfs}
    assert kinds >= {"juminhyo", "juminhyo-kisai", "kazei", "shotoku", "inkan", "koseki-zenbu", "koseki-kojin", "fuhyo"}
    trust = DocumentTrust.from_key_dir(out / "deployment" / "state" / "keys")
    for pdf in pdfs:
        verify_document(pdf.read_bytes(), trust=trust)
    assert list((out / "printed").rglob("*.png"))
    assert "refused: not_eligible (support_measure)" in result.stdout.replace("\n", "")
    assert "kept by the incident hold" in result.stdout


def test_demo_refuses_to_replace_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "yakuba", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "not made by `yakuba demo`" in result.stderr
    assert (tmp_path / "precious.txt").read_text(encoding="utf-8") == "keep me"
