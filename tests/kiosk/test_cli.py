"""`yakuba kiosk issue`: a whole transaction from the command line, and refusals as one line with exit code 2."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import tomli_w
from typer.testing import CliRunner

from yakuba.cli._kiosk import app, parse_option
from yakuba.config import Deployment
from yakuba.errors import ValidationError
from yakuba.kiosk.service import coins_for
from yakuba.pki import load_service_identity
from yakuba.wire import Server

from .kiosk_support import HQ, KIOSK, PIN, STORE, Binding, StandInHq, hq_app


def _deployment_pointing_at(deployment: Deployment, folder: Path, hq_port: int) -> Path:
    """The same deployment (same keys and state) with midori's HQ at HQ_PORT, where the stand-in listens."""
    data = tomllib.loads((deployment.root / "yakuba.toml").read_text(encoding="utf-8"))
    data["deployment"]["state_dir"] = str(deployment.state_dir)
    data["deployment"]["key_dir"] = str(deployment.key_dir)
    [midori] = [chain for chain in data["chains"] if chain["id"] == "midori"]
    midori["hq"]["port"] = hq_port
    folder.mkdir()
    (folder / "yakuba.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    return folder


def _issue(deployment: Deployment, hq: StandInHq, tmp_path: Path, card: Path, pin: str, *extra: str) -> tuple[int, str]:
    server = Server(app=hq_app(hq), identity=load_service_identity(deployment, instance=HQ, segment_id=STORE))
    with server.running_in_thread():
        folder = _deployment_pointing_at(deployment, tmp_path / "dep", server.port)
        args = ["issue", str(folder), "--kiosk", KIOSK, "--card", str(card), "--kind", "juminhyo", *extra]
        result = CliRunner().invoke(app, args, input=pin + "\n")
    return result.exit_code, result.output


def test_issue_prints_the_copies_and_voids_a_jammed_one(
    deployment: Deployment, hq: StandInHq, card_path: Path, fresh_state: Path, tmp_path: Path
) -> None:
    code, output = _issue(
        deployment,
        hq,
        tmp_path,
        card_path,
        PIN,
        "--option",
        "show_relationship=true",
        "--copies",
        "3",
        "--jam-copy",
        "2",
    )
    assert code == 0, output
    [(report, _)] = hq.completions
    tx = report.transaction_id
    assert (report.copies_printed, report.copies_voided) == (2, 1)
    assert str(fresh_state / f"{tx}-copy01.pdf") in output.replace("\n", "")
    assert "copy 2: paper jam" in output
    assert sorted(p.name for p in fresh_state.iterdir()) == [f"{tx}-copy01.pdf", f"{tx}-copy03.pdf"]
    [(submission, _)] = hq.submissions
    assert submission.request.options == {"show_relationship": True}


def test_issue_can_hand_the_copies_over(
    deployment: Deployment, hq: StandInHq, card_path: Path, fresh_state: Path, tmp_path: Path
) -> None:
    code, output = _issue(deployment, hq, tmp_path, card_path, PIN, "--take-to", str(tmp_path / "taken"))
    assert code == 0, output
    assert len(list((tmp_path / "taken").iterdir())) == 1
    assert list(fresh_state.iterdir()) == []


def test_a_wrong_pin_is_one_line_with_exit_code_2(
    deployment: Deployment, hq: StandInHq, card_path: Path, fresh_state: Path, tmp_path: Path
) -> None:
    code, output = _issue(deployment, hq, tmp_path, card_path, "9876")
    assert code == 2
    [line] = [line for line in output.splitlines() if line.startswith("refused")]
    assert line.startswith("refused [wrong_pin]: 暗証番号が違います。あと2回")
    assert "The PIN is wrong" in line
    assert hq.submissions == []


def test_a_wrongly_bound_certificate_is_refused_from_the_command_line(
    deployment: Deployment, hq: StandInHq, card_path: Path, fresh_state: Path, tmp_path: Path
) -> None:
    hq.binding = Binding.OTHER_REQUEST
    code, output = _issue(deployment, hq, tmp_path, card_path, PIN)
    assert code == 2
    assert "refused [document_refused]: 証明書を確認できなかったため" in output
    assert not fresh_state.exists() or list(fresh_state.iterdir()) == []
    [(report, _)] = hq.completions
    assert report.outcome.value == "abandoned"


def test_options_and_exact_payment() -> None:
    assert parse_option("show_honseki=true") == ("show_honseki", True)
    assert parse_option("members=0,2") == ("members", [0, 2])
    assert parse_option("year=2025") == ("year", 2025)
    assert parse_option("household=self") == ("household", "self")
    with pytest.raises(ValidationError):
        parse_option("novalue")
    assert coins_for(650) == (500, 100, 50)
