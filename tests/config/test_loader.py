"""The deployment loader: the sample is complete; bad files give one clear error naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from yakuba.config import (
    CONFIG_FILE_NAME,
    Role,
    check_lg_code,
    load_deployment,
    sample_deployment,
    segments,
    write_sample,
)
from yakuba.errors import ConfigError


def _write(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / CONFIG_FILE_NAME
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def test_sample_has_every_role_of_the_issue(tmp_path: Path) -> None:
    dep = write_sample(tmp_path / "d")
    assert {c.name for c in dep.cities} == {"西東京市", "小平市"}
    assert {c.code for c in dep.cities} == {"132292", "132110"}
    store_chains = [c for c in dep.chains if c.kind == "store"]
    assert len(store_chains) == 2
    assert sum(len(c.kiosks) for c in store_chains) == 3
    assert [len(c.kiosks) for c in dep.chains if c.kind == "city_hall"] == [1]
    for city in dep.cities:
        assert {i.system for i in city.issuers} == {"juki", "koseki"}
    roles = [role for role, _ in dep.services()]
    assert roles.count(Role.CENTER) == 1
    assert roles.count(Role.JPKI) == 1
    assert roles.count(Role.FORWARDER) == 2
    assert roles.count(Role.ISSUER) == 4
    addresses = [(s.host, s.port) for _, s in dep.services()]
    assert len(set(addresses)) == len(addresses)
    assert all(host == "127.0.0.1" for host, _ in addresses)
    assert dep.state_dir.is_dir()


def test_relative_sqlite_urls_live_in_the_state_folder(tmp_path: Path) -> None:
    dep = write_sample(tmp_path / "d")
    url = dep.database_url(dep.center.database)
    assert url == f"sqlite:///{dep.state_dir / 'center-1.sqlite3'}"
    assert dep.database_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert dep.database_url("sqlite:////abs/x.db") == "sqlite:////abs/x.db"


def test_segments_separate_every_network(tmp_path: Path) -> None:
    dep = write_sample(tmp_path / "d")
    ids = [s.id for s in segments(dep)]
    assert ids == [
        "store:midori",
        "store:aozora",
        "store:nishitokyo-hall",
        "dedicated",
        "jlis",
        "lgwan",
        "backbone:132292",
        "backbone:132110",
    ]
    lgwan = next(s for s in segments(dep) if s.id == "lgwan")
    assert {m.role for m in lgwan.servers} == {Role.FORWARDER}
    assert {m.role for m in lgwan.clients} == {Role.CENTER}


def test_config_is_frozen(tmp_path: Path) -> None:
    from pydantic import ValidationError

    dep = write_sample(tmp_path / "d")
    with pytest.raises(ValidationError):
        dep.center.port = 1  # type: ignore[misc]


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    write_sample(tmp_path / "d")
    before = (tmp_path / "d" / CONFIG_FILE_NAME).read_bytes()
    with pytest.raises(ConfigError, match="already there"):
        write_sample(tmp_path / "d")
    assert (tmp_path / "d" / CONFIG_FILE_NAME).read_bytes() == before


def test_unknown_key_is_named(tmp_path: Path) -> None:
    data = sample_deployment()
    data["center"]["colour"] = "blue"
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_deployment(path)
    assert str(path) in err.value.text_en
    assert "center.colour: unknown key" in err.value.text_en


def test_nested_unknown_key_is_named_with_its_index(tmp_path: Path) -> None:
    data = sample_deployment()
    data["cities"][1]["issuers"][0]["sytem"] = "juki"
    with pytest.raises(ConfigError, match=r"cities\.1\.issuers\.0\.sytem: unknown key"):
        load_deployment(_write(tmp_path, data))


def test_wrong_type_is_named(tmp_path: Path) -> None:
    data = sample_deployment()
    data["jpki"]["port"] = "18401"
    with pytest.raises(ConfigError, match=r"jpki\.port: Input should be a valid integer"):
        load_deployment(_write(tmp_path, data))


def test_missing_key_is_named(tmp_path: Path) -> None:
    data = sample_deployment()
    del data["cities"][0]["forwarder"]
    with pytest.raises(ConfigError, match=r"cities\.0\.forwarder: missing key"):
        load_deployment(_write(tmp_path, data))


def test_malformed_toml(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_FILE_NAME
    path.write_text("[center\nport = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_deployment(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_deployment(tmp_path / "nowhere")


def test_duplicate_port_is_refused(tmp_path: Path) -> None:
    data = sample_deployment()
    data["jpki"]["port"] = data["center"]["port"]
    with pytest.raises(ConfigError, match="used twice"):
        load_deployment(_write(tmp_path, data))


def test_bad_city_code_check_digit(tmp_path: Path) -> None:
    data = sample_deployment()
    data["cities"][0]["code"] = "132293"
    with pytest.raises(ConfigError, match=r"cities\.0\.code: .*check digit of 132293 should be 2"):
        load_deployment(_write(tmp_path, data))


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("132292", True),
        ("132110", True),
        ("131016", True),
        ("011002", True),
        ("132291", False),
        ("13229", False),
    ],
)
def test_local_government_check_digit(code: str, ok: bool) -> None:
    if ok:
        check_lg_code(code)
    else:
        with pytest.raises(ValueError, match="digit"):
            check_lg_code(code)


def test_unknown_database_scheme(tmp_path: Path) -> None:
    data = sample_deployment()
    data["center"]["database"] = "mysql://x"
    with pytest.raises(ConfigError, match=r"center\.database"):
        load_deployment(_write(tmp_path, data))
