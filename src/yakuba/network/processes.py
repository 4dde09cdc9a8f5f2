"""`yakuba serve` (one role instance in this process) and `yakuba up` (every instance as its own process)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from yakuba.clock import SystemClock
from yakuba.config import Deployment, Role
from yakuba.errors import ConfigError
from yakuba.network._roles import RoleInstance, create_role_app, find_instance, health_caller, role_module
from yakuba.pki import load_service_identity
from yakuba.wire import Server, client_session

__all__ = ["HEALTH_TIMEOUT_S", "STOP_TIMEOUT_S", "Supervisor", "check_health", "serve_instance"]

HEALTH_TIMEOUT_S = 60.0
"""How long `up` waits for every role to answer its health check (first start renders fonts, loads keys)."""

HEALTH_POLL_S = 0.2
"""Pause between health checks while a role is starting."""

STOP_TIMEOUT_S = 10.0
"""How long a role gets to finish its requests after SIGTERM before it is killed."""


def serve_instance(dep: Deployment, instance: str) -> None:
    """Run one role instance in this process until SIGTERM or SIGINT."""
    target = find_instance(dep, instance)
    asyncio.run(_serve(dep, target))


async def _serve(dep: Deployment, target: RoleInstance) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = create_role_app(dep, target, clock=SystemClock())
    cfg = target.config
    segment = role_module(target.role).listen_segment(dep, cfg.instance)
    identity = load_service_identity(dep, instance=cfg.instance, segment_id=segment)
    async with Server(app=app, identity=identity, host=cfg.host, port=cfg.port):
        await stop.wait()


async def check_health(dep: Deployment, instance: str) -> dict[str, str]:
    """Ask INSTANCE for GET /v1/health as a client of its segment would; raise on any failure."""
    target = find_instance(dep, instance)
    cfg = target.config
    caller_instance, segment, role = health_caller(dep, instance)
    identity = load_service_identity(dep, instance=caller_instance, segment_id=segment)
    async with (
        client_session(identity, expected_role=role, connect_timeout=1, total_timeout=2) as session,
        session.get(f"{cfg.base_url}/v1/health") as response,
    ):
        response.raise_for_status()
        return dict(await response.json())


_PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a process gets when its parent dies."""


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the supervisor dies, even by SIGKILL, so no role outlives
    it and holds its port (Linux only; elsewhere the supervisor's own stop() is the only guard)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class _Child:
    instance: str
    role: Role
    process: subprocess.Popen[bytes]


class Supervisor:
    """Starts every role instance of a deployment as a process, waits until all are healthy, stops them all."""

    def __init__(self, *, dep: Deployment, config_path: Path, log_dir: Path) -> None:
        self._dep = dep
        self._config_path = config_path
        self._log_dir = log_dir
        self._children: list[_Child] = []

    @property
    def instances(self) -> list[tuple[str, Role, int]]:
        """(instance, role, pid) of every child."""
        return [(c.instance, c.role, c.process.pid) for c in self._children]

    def start(self) -> None:
        """Spawn one `yakuba serve` per instance, upstream roles first; logs go to LOG_DIR/<instance>.log."""
        self._log_dir.mkdir(parents=True, exist_ok=True)
        order = [Role.JPKI, Role.ISSUER, Role.FORWARDER, Role.CENTER, Role.STOREHQ, Role.KIOSK]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for role in order:
            for svc_role, cfg in self._dep.services():
                if svc_role != role:
                    continue
                log = (self._log_dir / f"{cfg.instance}.log").open("ab")
                process = subprocess.Popen(
                    [sys.executable, "-m", "yakuba", "serve", str(self._config_path), cfg.instance],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,  # Ctrl-C reaches the supervisor, which stops children in order
                    preexec_fn=_die_with_parent,  # no other thread runs while the children are spawned
                )
                log.close()
                self._children.append(_Child(instance=cfg.instance, role=role, process=process))

    def wait_healthy(self, *, timeout: float = HEALTH_TIMEOUT_S) -> None:
        """Poll every child's health until all answer; ConfigError naming the first that died or never did."""
        pending = {c.instance for c in self._children}
        deadline = time.monotonic() + timeout
        while pending:
            for child in self._children:
                if child.instance in pending and child.process.poll() is not None:
                    raise ConfigError(
                        f"{child.instance} exited with code {child.process.returncode} "
                        f"(see {self._log_dir / (child.instance + '.log')})"
                    )
            for instance in sorted(pending):
                with contextlib.suppress(Exception):
                    asyncio.run(check_health(self._dep, instance))
                    pending.discard(instance)
            if pending and time.monotonic() > deadline:
                raise ConfigError(f"not healthy after {timeout:.0f} s: {', '.join(sorted(pending))}")
            if pending:
                time.sleep(HEALTH_POLL_S)

    def stop(self) -> None:
        """SIGTERM every child (kiosks first), wait STOP_TIMEOUT_S, then kill what is left."""
        for child in reversed(self._children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in reversed(self._children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        self._children.clear()
