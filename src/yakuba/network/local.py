"""The whole issuance network in one event loop: every role's real app behind real mTLS on its configured port.

For tests, the demo and benchmarks. `yakuba up` runs the same apps as separate processes instead.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from starlette.types import ASGIApp

from yakuba.clock import Clock, SystemClock
from yakuba.config import Deployment, Role
from yakuba.network._roles import RoleInstance, create_role_app, role_module
from yakuba.pki import load_service_identity
from yakuba.wire import Server

__all__ = ["LocalNetwork"]


class LocalNetwork:
    """Starts every role instance except the kiosks (the kiosk is a library its caller drives)."""

    def __init__(
        self,
        *,
        dep: Deployment,
        clock: Clock | None = None,
        listen_ports: dict[str, int] | None = None,
        wrap: dict[str, Callable[[ASGIApp], ASGIApp]] | None = None,
    ) -> None:
        """LISTEN_PORTS moves an instance's listener off its configured port (which its callers still use),
        so a test can put a recording relay on the link; WRAP puts middleware around an instance's app, so a
        test can play a compromised relay."""
        self._dep = dep
        self._clock = clock or SystemClock()
        self._listen_ports = dict(listen_ports or {})
        self._wrap = dict(wrap or {})
        self._servers: list[Server] = []

    @property
    def servers(self) -> tuple[Server, ...]:
        return tuple(self._servers)

    async def start(self) -> None:
        """Start issuers first and kiosk-side relays last, so every role finds its upstream listening."""
        order = [Role.ISSUER, Role.FORWARDER, Role.JPKI, Role.CENTER, Role.STOREHQ]
        try:
            for role in order:
                for svc_role, config in self._dep.services():
                    if svc_role != role:
                        continue
                    target = RoleInstance(role=role, config=config)
                    segment = role_module(role).listen_segment(self._dep, config.instance)
                    app = create_role_app(self._dep, target, clock=self._clock)
                    if config.instance in self._wrap:
                        app = self._wrap[config.instance](app)
                    server = Server(
                        app=app,
                        identity=load_service_identity(self._dep, instance=config.instance, segment_id=segment),
                        host=config.host,
                        port=self._listen_ports.get(config.instance, config.port),
                    )
                    await server.start()
                    self._servers.append(server)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop in the reverse order of starting."""
        while self._servers:
            await self._servers.pop().stop()

    async def __aenter__(self) -> LocalNetwork:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
