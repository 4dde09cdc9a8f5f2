"""`yakuba serve` (one role instance in this process) and `yakuba up` (every instance as its own process)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import uvloop

from yakuba.clock import Clock, OffsetClock, SystemClock
from yakuba.config import Deployment, Role
from yakuba.errors import ConfigError
from yakuba.network._roles import RoleInstance, create_role_app, find_instance, health_caller, role_module
from yakuba.pki import load_service_identity
from yakuba.wire import Server, client_session
from yakuba.wire.client import settle_transports

__all__ = [
    "HEALTH_TIMEOUT_S",
    "STOP_TIMEOUT_S",
    "ChildProcess",
    "Supervisor",
    "check_health",
    "listens_on",
    "serve_instance",
]

HEALTH_TIMEOUT_S = 120.0
"""How long `up` waits by default for every role to answer its health check (first start renders fonts, loads
keys; some 16 processes importing at once on 2 busy cores took most of the former 60 s); `up --start-timeout`."""

HEALTH_POLL_S = 0.2
"""Pause between health checks while a role is starting."""

STOP_TIMEOUT_S = 10.0
"""How long a role gets to finish its requests after SIGTERM before it is killed."""

GC_YOUNG_THRESHOLD = 20_000
"""Allocations between collections of the youngest generation (CPython's default is 700). A request makes and
drops thousands of short-lived objects; at 700 the collector ran several times per request and, in a relay,
took a third of its CPU (perf, `yakuba bench issuance`). Cycles are still collected, only less often."""


def serve_instance(
    dep: Deployment,
    instance: str,
    *,
    listen_port: int | None = None,
    reuse_port: bool = False,
    clock_offset: dt.timedelta = dt.timedelta(0),
) -> None:
    """Run one role instance in this process until SIGTERM or SIGINT.

    LISTEN_PORT moves the listener off the configured port (which callers still use: a relay or a fault
    proxy sits there); REUSE_PORT lets several processes of the instance share the port (`up --workers`);
    CLOCK_OFFSET moves this process's clock (a run that must be inside service hours, or a skewed clock).
    """
    target = find_instance(dep, instance)
    clock: Clock = OffsetClock(clock_offset) if clock_offset else SystemClock()
    # uvloop (installed with uvicorn[standard]): `yakuba bench issuance` measured 12 % less CPU per certificate
    # in every role than with asyncio's default loop.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(dep, target, clock=clock, listen_port=listen_port, reuse_port=reuse_port))


async def _serve(
    dep: Deployment, target: RoleInstance, *, clock: Clock, listen_port: int | None, reuse_port: bool
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = create_role_app(dep, target, clock=clock)
    cfg = target.config
    segment = role_module(target.role).listen_segment(dep, cfg.instance)
    identity = load_service_identity(dep, instance=cfg.instance, segment_id=segment)
    port = cfg.port if listen_port is None else listen_port
    async with Server(app=app, identity=identity, host=cfg.host, port=port, reuse_port=reuse_port):
        _settle_heap()
        await stop.wait()


def _settle_heap() -> None:
    """Once the role is up: move everything made at start-up (modules, the app, keys, caches: hundreds of
    thousands of objects that live as long as the process) out of the cyclic collector's reach, so its full
    collections walk only what requests made, and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


async def check_health(dep: Deployment, instance: str, *, port: int | None = None) -> dict[str, str]:
    """Ask INSTANCE (at PORT instead of its configured one, if given) for GET /v1/health as a client of its
    segment would; raise on any failure."""
    target = find_instance(dep, instance)
    cfg = target.config
    caller_instance, segment, role = health_caller(dep, instance)
    identity = load_service_identity(dep, instance=caller_instance, segment_id=segment)
    async with (
        client_session(identity, expected_role=role, connect_timeout=1, total_timeout=2) as session,
        session.get(f"https://{cfg.host}:{cfg.port if port is None else port}/v1/health") as response,
    ):
        response.raise_for_status()
        return dict(await response.json())


async def _probe(dep: Deployment, instance: str, *, port: int) -> None:
    """check_health in an event loop of its own, which it leaves with nothing open: a probe that timed out on
    a process still starting would otherwise leave its connection waiting for a TLS close_notify."""
    try:
        await check_health(dep, instance, port=port)
    finally:
        await settle_transports(timeout_s=0.0)


def listens_on(pid: int, port: int) -> bool:
    """Whether process PID holds a listening TCP socket on PORT (Linux /proc; elsewhere always True, and the
    health check alone decides). With SO_REUSEPORT a health check may reach any worker of an instance: this
    tells that one particular worker is accepting."""
    if not sys.platform.startswith("linux"):
        return True
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(fields[9])
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return any(link.startswith("socket:[") and link[8:-1] in inodes for link in links)


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
class ChildProcess:
    """One process of a role instance: worker 0 .. N-1 of it."""

    instance: str
    role: Role | None
    """None: a city's operations console (served beside the issuers, not a role of the issuance chain)."""
    worker: int
    port: int
    """The port the process listens on (its instance's configured port, or the one LISTEN_PORTS gave)."""
    argv: list[str]
    process: subprocess.Popen[bytes]

    city: str | None = None
    """The city code of a console process."""

    @property
    def kind(self) -> str:
        """The role's name, or "console"."""
        return "console" if self.role is None else self.role.value

    @property
    def name(self) -> str:
        """instance, or instance.wK for a second and later worker (its log file's name)."""
        return self.instance if self.worker == 0 else f"{self.instance}.w{self.worker}"


class Supervisor:
    """Starts every role instance of a deployment as processes, waits until all are healthy, stops them all.

    WORKERS processes of each instance of WORKER_ROLES (default: every role but the kiosk, which is one terminal)
    share its port with SO_REUSEPORT and its database (SQLite in WAL mode with a busy timeout, or PostgreSQL).
    ROLES limits which roles are started (a driver that plays the kiosks itself starts none). LISTEN_PORTS
    moves instances' listeners (callers keep using the configured ports, where a relay or fault proxy
    listens). CLOCK_OFFSET moves every process's clock; CLOCK_SKEW adds a further offset to single
    processes, keyed by (instance, worker).
    """

    def __init__(
        self,
        *,
        dep: Deployment,
        config_path: Path,
        log_dir: Path,
        workers: int = 1,
        worker_roles: frozenset[Role] | None = None,
        roles: frozenset[Role] | None = None,
        listen_ports: dict[str, int] | None = None,
        clock_offset: dt.timedelta = dt.timedelta(0),
        clock_skew: dict[tuple[str, int], dt.timedelta] | None = None,
        consoles: bool = False,
    ) -> None:
        """CONSOLES also starts each city's operations console (`yakuba console serve`), as `yakuba up` does."""
        if workers < 1:
            raise ConfigError("workers must be at least 1", ja="ワーカー数は1以上です")
        self._dep = dep
        self._config_path = config_path
        self._log_dir = log_dir
        self._workers = workers
        self._worker_roles = frozenset(Role) - {Role.KIOSK} if worker_roles is None else worker_roles - {Role.KIOSK}
        self._roles = frozenset(Role) if roles is None else roles
        self._listen_ports = dict(listen_ports or {})
        self._clock_offset = clock_offset
        self._clock_skew = dict(clock_skew or {})
        self._consoles = consoles
        self._children: list[ChildProcess] = []

    @property
    def instances(self) -> list[tuple[str, str, int]]:
        """(instance, role or "console", pid) of every child process (an instance appears once per worker)."""
        return [(c.instance, c.kind, c.process.pid) for c in self._children]

    @property
    def children(self) -> tuple[ChildProcess, ...]:
        return tuple(self._children)

    def workers_of(self, role: Role) -> int:
        """How many processes each instance of ROLE runs."""
        return self._workers if role in self._worker_roles else 1

    def start(self) -> None:
        """Spawn the `yakuba serve` processes of every instance, upstream roles first; logs go to
        LOG_DIR/<instance>[.wK].log."""
        self._log_dir.mkdir(parents=True, exist_ok=True)
        order = [Role.JPKI, Role.ISSUER, Role.FORWARDER, Role.CENTER, Role.STOREHQ, Role.KIOSK]
        for role in order:
            if role not in self._roles:
                continue
            for svc_role, cfg in self._dep.services():
                if svc_role != role:
                    continue
                workers = self.workers_of(role)
                port = self._listen_ports.get(cfg.instance, cfg.port)
                for worker in range(workers):
                    argv = [sys.executable, "-m", "yakuba", "serve", str(self._config_path), cfg.instance]
                    if port != cfg.port:
                        argv += ["--listen-port", str(port)]
                    if workers > 1:
                        argv.append("--reuse-port")
                    offset = self._clock_offset + self._clock_skew.get((cfg.instance, worker), dt.timedelta(0))
                    if offset:
                        argv += ["--clock-offset", f"{offset.total_seconds():.6f}"]
                    name = cfg.instance if worker == 0 else f"{cfg.instance}.w{worker}"
                    self._children.append(
                        ChildProcess(
                            instance=cfg.instance,
                            role=role,
                            worker=worker,
                            port=port,
                            argv=argv,
                            process=self._spawn(name, argv),
                        )
                    )

        if self._consoles:
            for city in self._dep.cities:
                if city.console is None:
                    continue
                argv = [sys.executable, "-m", "yakuba", "console", "serve", str(self._config_path), "--city", city.code]
                self._children.append(
                    ChildProcess(
                        instance=city.console.instance,
                        role=None,
                        worker=0,
                        port=city.console.port,
                        argv=argv,
                        process=self._spawn(city.console.instance, argv),
                        city=city.code,
                    )
                )

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self._log_dir / f"{name}.log").open("ab")
        try:
            return subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # Ctrl-C reaches the supervisor, which stops children in order
                preexec_fn=_die_with_parent,  # no other thread runs while the children are spawned
            )
        finally:
            log.close()

    def wait_healthy(self, *, timeout: float = HEALTH_TIMEOUT_S) -> None:
        """Poll until every instance answers its health check and every worker process listens; ConfigError
        naming the first process that died or the instances that never answered."""
        self._wait(self._children, timeout=timeout)

    def _wait(self, children: list[ChildProcess], *, timeout: float) -> None:
        pending = list(children)
        answered: set[str] = set()
        deadline = time.monotonic() + timeout
        while pending:
            for child in pending:
                if child.process.poll() is not None:
                    raise ConfigError(
                        f"{child.name} exited with code {child.process.returncode} "
                        f"(see {self._log_dir / (child.name + '.log')})"
                    )
            for child in list(pending):
                if child.instance not in answered:
                    with contextlib.suppress(Exception):
                        self._check(child)
                        answered.add(child.instance)
                if child.instance in answered and listens_on(child.process.pid, child.port):
                    pending.remove(child)
            if pending and time.monotonic() > deadline:
                names = ", ".join(sorted(c.name for c in pending))
                raise ConfigError(f"not healthy after {timeout:.0f} s: {names} (their logs: {self._log_dir})")
            if pending:
                time.sleep(HEALTH_POLL_S)

    def _check(self, child: ChildProcess) -> None:
        if child.city is None:
            asyncio.run(_probe(self._dep, child.instance, port=child.port))
            return
        from yakuba.console.web_tls import check_console_health

        check_console_health(self._dep, self._dep.city(child.city), port=child.port)

    def restart(
        self, instance: str, *, worker: int = 0, sig: int = signal.SIGKILL, timeout: float = HEALTH_TIMEOUT_S
    ) -> int:
        """Kill one process of INSTANCE (SIGKILL by default: a crash, nothing finishes), start it again and wait
        until it listens; returns the new pid. Its requests in flight fail; the other workers keep serving."""
        found = [i for i, c in enumerate(self._children) if c.instance == instance and c.worker == worker]
        if not found:
            raise ConfigError(f"no process {instance} worker {worker} is supervised")
        index = found[0]
        child = self._children[index]
        if child.process.poll() is None:
            child.process.send_signal(sig)
            try:
                child.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        fresh = ChildProcess(
            instance=child.instance,
            role=child.role,
            worker=child.worker,
            port=child.port,
            argv=child.argv,
            process=self._spawn(child.name, child.argv),
            city=child.city,
        )
        self._children[index] = fresh
        self._wait([fresh], timeout=timeout)
        return fresh.process.pid

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
