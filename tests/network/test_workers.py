"""`Supervisor(workers=N)`: N processes of one instance share its port (SO_REUSEPORT) and its database, and one
of them can be killed and restarted while the others keep answering."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from yakuba.config import SAMPLE_PORTS, Deployment, Role, find_config, write_sample
from yakuba.network.ports import free_port_block
from yakuba.network.processes import Supervisor, check_health, listens_on
from yakuba.pki import init_pki


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    dep = write_sample(tmp_path_factory.mktemp("workers") / "dep", base_port=free_port_block(SAMPLE_PORTS))
    init_pki(dep)
    return dep


@pytest.fixture(scope="module")
def supervisor(deployment: Deployment) -> Iterator[Supervisor]:
    sup = Supervisor(
        dep=deployment,
        config_path=find_config(deployment.state_dir.parent),
        log_dir=deployment.state_dir / "logs",
        workers=2,
        roles=frozenset({Role.JPKI, Role.CENTER}),
        clock_offset=dt.timedelta(hours=3),
    )
    sup.start()
    try:
        sup.wait_healthy()
        yield sup
    finally:
        sup.stop()


def test_two_processes_of_each_instance_listen_on_its_one_port(supervisor: Supervisor, deployment: Deployment) -> None:
    by_instance: dict[str, list[int]] = {}
    for child in supervisor.children:
        by_instance.setdefault(child.instance, []).append(child.process.pid)
        assert listens_on(child.process.pid, deployment.center.port if child.role is Role.CENTER else child.port)
        assert "--reuse-port" in child.argv
        assert "--clock-offset" in child.argv
    assert sorted(by_instance) == ["center-1", "jpki-1"]
    assert all(len(set(pids)) == 2 for pids in by_instance.values())
    assert {c.name for c in supervisor.children} == {"center-1", "center-1.w1", "jpki-1", "jpki-1.w1"}
    assert (deployment.state_dir / "logs" / "center-1.w1.log").exists()


def test_a_killed_worker_is_restarted_and_the_instance_keeps_answering(
    supervisor: Supervisor, deployment: Deployment
) -> None:
    before = {c.name: c.process.pid for c in supervisor.children}
    new_pid = supervisor.restart("center-1", worker=1)
    after = {c.name: c.process.pid for c in supervisor.children}
    assert new_pid == after["center-1.w1"] != before["center-1.w1"]
    assert after["center-1"] == before["center-1"]  # the other worker was never touched
    assert not Path(f"/proc/{before['center-1.w1']}/cmdline").exists() or not listens_on(
        before["center-1.w1"], deployment.center.port
    )
    assert listens_on(new_pid, deployment.center.port)
    for _ in range(6):  # whichever worker the kernel picks answers
        assert asyncio.run(check_health(deployment, "center-1"))["status"] == "ok"


def test_workers_below_one_are_refused(deployment: Deployment) -> None:
    from yakuba.errors import ConfigError

    with pytest.raises(ConfigError):
        Supervisor(dep=deployment, config_path=Path("x"), log_dir=Path("y"), workers=0)
