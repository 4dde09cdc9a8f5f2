"""Which package runs each role instance, and on which segment it listens."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from fastapi import FastAPI

from yakuba.clock import Clock
from yakuba.config import Deployment, KioskConfig, Role, ServiceConfig, segments
from yakuba.errors import ConfigError

__all__ = ["RoleInstance", "RoleModule", "find_instance", "health_caller", "role_module"]

_ROLE_APPS: dict[Role, str] = {
    Role.KIOSK: "yakuba.kiosk.app",
    Role.STOREHQ: "yakuba.storehq.app",
    Role.CENTER: "yakuba.center.app",
    Role.JPKI: "yakuba.jpki.app",
    Role.FORWARDER: "yakuba.forwarder.app",
    Role.ISSUER: "yakuba.issuer.app",
}


class RoleModule(Protocol):
    """What every role's app.py offers."""

    create_app: Callable[..., FastAPI]
    listen_segment: Callable[[Deployment, str], str]


@dataclass(frozen=True, slots=True)
class RoleInstance:
    """One configured role instance."""

    role: Role
    config: ServiceConfig | KioskConfig

    @property
    def instance(self) -> str:
        return self.config.instance


def role_module(role: Role) -> RoleModule:
    """The app module of ROLE (imported on demand: a process runs one role)."""
    return cast(RoleModule, importlib.import_module(_ROLE_APPS[role]))


def find_instance(dep: Deployment, instance: str) -> RoleInstance:
    """The role instance named INSTANCE, or a ConfigError listing the names there are."""
    for role, config in dep.services():
        if config.instance == instance:
            return RoleInstance(role=role, config=config)
    known = ", ".join(cfg.instance for _, cfg in dep.services())
    raise ConfigError(f"no instance {instance!r} in this deployment (there are: {known})")


def health_caller(dep: Deployment, instance: str) -> tuple[str, str, Role]:
    """A client allowed to ask INSTANCE for its health: (caller instance, segment id, server role).

    A kiosk is a client on its store network, but it also answers its own HQ's health checks there.
    """
    for segment in segments(dep):
        for member in segment.servers:
            if member.instance == instance and segment.clients:
                return segment.clients[0].instance, segment.id, member.role
    for chain, kiosk in dep.kiosks():
        if kiosk.instance == instance:
            return chain.hq.instance, f"store:{chain.id}", Role.KIOSK
    raise ConfigError(f"nobody on the network may ask {instance!r} for its health")


def create_role_app(dep: Deployment, target: RoleInstance, *, clock: Clock | None) -> Any:
    """The ASGI app of TARGET built by its role package."""
    return role_module(target.role).create_app(dep, instance=target.instance, clock=clock)
