"""Route policies: every route names the roles that may call it, and an app with an undeclared route does not start."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from yakuba.config import Role
from yakuba.errors import AuthenticationError, AuthorizationError, ConfigError
from yakuba.pki import PeerIdentity

__all__ = ["RolePolicy", "allow", "check_route_policies", "documentation_paths", "peer_identity"]


def peer_identity(request: Request) -> PeerIdentity:
    """The caller as its client certificate names it; AuthenticationError if the connection carried none.

    Only the mutual-TLS server (yakuba.wire.server) fills this in; an app served any other way refuses every
    caller rather than trusting headers (fail closed).
    """
    tls = request.scope.get("extensions", {}).get("tls")
    peer = tls.get("peer") if isinstance(tls, dict) else None
    if not isinstance(peer, PeerIdentity):
        raise AuthenticationError(
            "no verified client certificate on this connection",
            ja="通信相手の証明書が確認できません。",
        )
    return peer


class RolePolicy:
    """A route's declared callers: a FastAPI dependency that admits only these roles."""

    __slots__ = ("roles",)

    def __init__(self, *, roles: frozenset[Role]) -> None:
        if not roles:
            raise ConfigError("a route policy must allow at least one role")
        self.roles = roles

    async def __call__(self, request: Request) -> PeerIdentity:
        peer = peer_identity(request)
        if peer.role not in self.roles:
            # The caller's role is not personal and helps the operator; the route is the caller's own.
            raise AuthorizationError(f"a {peer.role.value} may not call this route")
        return peer

    def __repr__(self) -> str:
        return f"allow({', '.join(sorted(r.value for r in self.roles))})"


def allow(*roles: Role) -> Any:
    """Declare who may call a route: ``dependencies=[allow(Role.KIOSK)]`` or a ``PeerIdentity`` parameter
    ``peer: Annotated[PeerIdentity, allow(Role.KIOSK, Role.STOREHQ)]``. Any other role gets 403."""
    return Depends(RolePolicy(roles=frozenset(roles)))


def documentation_paths(app: FastAPI) -> frozenset[str]:
    """The OpenAPI and docs routes FastAPI adds itself; exempt from policies explicitly, and only these.

    They describe the API and serve no data; they are still behind mutual TLS, so only members of the
    segment can read them.
    """
    paths = {app.openapi_url, app.docs_url, app.redoc_url}
    if app.docs_url and app.swagger_ui_oauth2_redirect_url:
        paths.add(app.swagger_ui_oauth2_redirect_url)
    return frozenset(p for p in paths if p)


def check_route_policies(app: FastAPI) -> None:
    """Raise ConfigError naming every route that has no declared policy (the app must not start)."""
    exempt = documentation_paths(app)
    missing: list[str] = []
    # Route contexts, not app.routes: included routers are resolved lazily, with their include-time
    # dependencies, and only the effective route tells what a request will actually go through.
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        if isinstance(original, APIRoute | APIWebSocketRoute):
            dependant = getattr(context, "dependant", None)
            if not isinstance(dependant, Dependant) or not _has_policy(dependant):
                methods = ",".join(sorted(context.methods or {"WEBSOCKET"}))
                missing.append(f"{methods} {context.path}")
        elif context.path not in exempt:
            # Plain Starlette routes and mounts cannot declare a policy: refuse them outright.
            missing.append(f"{type(original).__name__} {context.path or '?'}")
    if missing:
        listed = "; ".join(missing)
        raise ConfigError(
            f"routes without a caller policy (declare allow(...)): {listed}",
            ja=f"呼び出し元の制限が宣言されていない経路があります: {listed}",
        )


def _has_policy(dependant: Dependant) -> bool:
    if isinstance(dependant.call, RolePolicy):
        return True
    return any(_has_policy(sub) for sub in dependant.dependencies)
