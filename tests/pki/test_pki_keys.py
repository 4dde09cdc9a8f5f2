"""Private key files: 0600 in 0700 folders, and a key open to other accounts is refused with the fix."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from yakuba.config import Deployment
from yakuba.errors import ConfigError
from yakuba.pki import issue_service_certificate, load_service_identity
from yakuba.pki.card import CityCounter


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_private_key_is_0600_and_every_key_folder_0700(deployment: Deployment) -> None:
    keys = deployment.key_dir
    private = [*keys.rglob("*.key"), *keys.glob("card-state/*")]
    assert len(list(keys.rglob("*.key"))) >= 11 + 22 + 4 + 1
    for path in private:
        assert _mode(path) == 0o600, path
    folders = [keys, *(p for p in keys.rglob("*") if p.is_dir())]
    for folder in folders:
        assert _mode(folder) == 0o700, folder
    assert _mode(keys / "card-chip.key") == 0o600
    for cert in keys.rglob("*.crt"):
        assert _mode(cert) == 0o644, cert


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_readable_by_others_is_refused_with_the_chmod_to_run(fresh_deployment: Deployment, mode: int) -> None:
    key = fresh_deployment.key_dir / "services" / "center-1" / "lgwan.key"
    key.chmod(mode)
    with pytest.raises(ConfigError, match=rf"readable by other accounts.*chmod 600 {key}"):
        load_service_identity(fresh_deployment, instance="center-1", segment_id="lgwan")
    ca_key = fresh_deployment.key_dir / "ca" / "lgwan.key"
    ca_key.chmod(mode)
    with pytest.raises(ConfigError, match="chmod 600"):  # the CA key is loaded to issue
        issue_service_certificate(fresh_deployment, instance="center-1", segment_id="lgwan")
    key.chmod(0o600)
    ca_key.chmod(0o600)
    load_service_identity(fresh_deployment, instance="center-1", segment_id="lgwan")


def test_a_world_readable_key_folder_is_refused(fresh_deployment: Deployment) -> None:
    folder = fresh_deployment.key_dir / "cities" / "132292"
    folder.chmod(0o755)
    with pytest.raises(ConfigError, match=rf"chmod 700 {folder}"):
        CityCounter.from_deployment(fresh_deployment, "132292")
    folder.chmod(0o700)
    fresh_deployment.key_dir.chmod(0o705)
    with pytest.raises(ConfigError, match="chmod 700"):
        CityCounter.from_deployment(fresh_deployment, "132292")
    fresh_deployment.key_dir.chmod(0o700)
    assert CityCounter.from_deployment(fresh_deployment, "132292").city_code == "132292"


def test_an_open_chip_secret_is_refused(fresh_deployment: Deployment, tmp_path: Path) -> None:
    from yakuba.pki.card import enrol_card

    (fresh_deployment.key_dir / "card-chip.key").chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        enrol_card(fresh_deployment, city_code="132292", pin="1234", path=tmp_path / "x.card")
    assert not (tmp_path / "x.card").exists()
