"""Where a deployment's audit logs live: their origin, database and key files."""

from __future__ import annotations

from dataclasses import dataclass

from yakuba.audit._keys import create_log_keys, load_log_signer, load_log_verifier
from yakuba.audit._note import NoteSigner, NoteVerifier
from yakuba.audit._store import AuditLog, Integrator
from yakuba.config import Deployment
from yakuba.database import make_engine
from yakuba.errors import ConfigError

__all__ = ["DeploymentLog", "log_database_url", "log_origin", "open_deployment_log"]


def log_origin(dep: Deployment, log_name: str) -> str:
    """The checkpoint origin line (and key name) of a log: `yakuba/<deployment>/audit/<log>`."""
    return f"yakuba/{dep.deployment.name}/audit/{log_name}"


def log_database_url(dep: Deployment, log_name: str) -> str:
    """The database holding LOG_NAME: a role instance's own database, or a city's registry (`registry-<code>`).

    The log lives in the same database as the changes it records, so a change and its entry commit
    in one transaction.
    """
    for _role, svc in dep.services():
        if svc.instance == log_name:
            return dep.database_url(svc.database)
    for city in dep.cities:
        if log_name == f"registry-{city.code}":
            return dep.database_url(city.registry_database)
    raise ConfigError(f"no audit log named {log_name!r} in this deployment (a role instance or registry-<code>)")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentLog:
    """A deployment's log, opened, with its public key (and its signer when it was asked for)."""

    log: AuditLog
    verifier: NoteVerifier
    signer: NoteSigner | None

    def integrator(self) -> Integrator:
        if self.signer is None:
            raise ConfigError("this log was opened without its signing key")
        return Integrator(engine=self.log.engine, origin=self.log.origin, signer=self.signer)


def open_deployment_log(
    dep: Deployment, log_name: str, *, create: bool = False, with_signer: bool = False
) -> DeploymentLog:
    """Open LOG_NAME of DEP (creating its tables and keys first when CREATE)."""
    origin = log_origin(dep, log_name)
    url = log_database_url(dep, log_name)
    if create:
        create_log_keys(key_dir=dep.key_dir, log_name=log_name, origin=origin)
    verifier = load_log_verifier(key_dir=dep.key_dir, log_name=log_name)
    if verifier.name != origin:
        raise ConfigError(f"the key of audit log {log_name!r} is named for another origin")
    engine = make_engine(url)
    if create:
        log = AuditLog.open(engine=engine, origin=origin)
    else:
        log = AuditLog.attach(engine=engine)
        if log.origin != origin:
            raise ConfigError(f"the database of audit log {log_name!r} holds another log")
    signer = load_log_signer(key_dir=dep.key_dir, log_name=log_name, origin=origin) if with_signer else None
    return DeploymentLog(log=log, verifier=verifier, signer=signer)
