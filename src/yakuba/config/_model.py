"""The deployment's typed, frozen configuration objects."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "CenterConfig",
    "ChainConfig",
    "CityConfig",
    "ConsoleConfig",
    "Deployment",
    "DeploymentSection",
    "IssuerConfig",
    "JpkiConfig",
    "KioskConfig",
    "Role",
    "ServiceConfig",
    "check_lg_code",
]

# One instance id names one process role instance everywhere: certificates, logs, routes.
InstanceId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
Host = Annotated[str, Field(min_length=1, max_length=253)]


class Role(enum.StrEnum):
    """The six network roles of the issuance chain."""

    KIOSK = "kiosk"
    STOREHQ = "storehq"
    CENTER = "center"
    JPKI = "jpki"
    FORWARDER = "forwarder"
    ISSUER = "issuer"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ServiceConfig(_Frozen):
    """Where one role instance listens and where its data lives."""

    instance: InstanceId
    host: Host = "127.0.0.1"
    port: Port
    database: str = Field(min_length=1, description="SQLAlchemy URL; relative SQLite paths live in state_dir")

    @field_validator("database")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"


class CenterConfig(ServiceConfig):
    """The national issuance center (証明書交付センター)."""


class JpkiConfig(ServiceConfig):
    """The JPKI certificate-status service (公的個人認証サービス)."""


class IssuerConfig(ServiceConfig):
    """A city's certificate issuance server, one per back-office system."""

    system: Literal["juki", "koseki"] = Field(description="juki: 住民記録系 (residence, seal, tax); koseki: 戸籍系")


class ConsoleConfig(_Frozen):
    """A city's operations console (staff pages, the verification page): browsers, so server-only TLS."""

    instance: InstanceId
    host: Host = "127.0.0.1"
    port: Port
    database: str = Field(min_length=1, description="staff accounts and sessions; SQLAlchemy URL")
    tls: bool = Field(default=True, description="HTTPS with a server certificate from the city's backbone CA")

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"


class CityConfig(_Frozen):
    """A participating municipality."""

    code: str = Field(pattern=r"^\d{6}$", description="全国地方公共団体コード with its check digit")
    name: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    prefecture: str = Field(min_length=1)
    mayor_title: str = Field(min_length=1)
    mayor_name: str = Field(min_length=1)
    registry_database: str = Field(min_length=1)
    forwarder: ServiceConfig
    issuers: tuple[IssuerConfig, ...] = Field(min_length=1, strict=False)
    console: ConsoleConfig | None = None

    @field_validator("code")
    @classmethod
    def _check_digit(cls, value: str) -> str:
        check_lg_code(value)
        return value

    def issuer_for(self, system: str) -> IssuerConfig:
        for issuer in self.issuers:
            if issuer.system == system:
                return issuer
        raise KeyError(system)


class KioskConfig(_Frozen):
    """A multi-copy machine in a store, or a city-hall terminal."""

    instance: InstanceId
    host: Host = "127.0.0.1"
    port: Port
    database: str = Field(min_length=1)
    location: str = Field(min_length=1, description="store or building name, shown to staff; never personal")

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"


class ChainConfig(_Frozen):
    """A store chain (or a city's own terminal network) with its HQ gateway and kiosks."""

    id: InstanceId
    name: str = Field(min_length=1)
    kind: Literal["store", "city_hall"] = "store"
    hq: ServiceConfig
    kiosks: tuple[KioskConfig, ...] = Field(min_length=1, strict=False)


class DeploymentSection(_Frozen):
    """Names and folders of the deployment as a whole."""

    name: InstanceId
    state_dir: str = "state"
    key_dir: str = "state/keys"


class Deployment(_Frozen):
    """One deployment: every role instance, its address, its database; loaded from one TOML file."""

    deployment: DeploymentSection
    center: CenterConfig
    jpki: JpkiConfig
    cities: tuple[CityConfig, ...] = Field(min_length=1, strict=False)
    chains: tuple[ChainConfig, ...] = Field(min_length=1, strict=False)
    # Where the file was read from; set by the loader, not written in the file.
    root: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _unique(self) -> Deployment:
        seen_ids: set[str] = set()
        seen_addr: set[tuple[str, int]] = set()
        consoles = [("console", c.console) for c in self.cities if c.console is not None]
        for role, svc in [*self.services(), *consoles]:
            if svc.instance in seen_ids:
                raise ValueError(f"instance id {svc.instance!r} ({role}) is used twice")
            seen_ids.add(svc.instance)
            if (svc.host, svc.port) in seen_addr:
                raise ValueError(f"address {svc.host}:{svc.port} ({svc.instance}) is used twice")
            seen_addr.add((svc.host, svc.port))
        for city in self.cities:
            systems = [i.system for i in city.issuers]
            if len(set(systems)) != len(systems):
                raise ValueError(f"city {city.code} has two issuers for the same system")
        codes = [c.code for c in self.cities]
        if len(set(codes)) != len(codes):
            raise ValueError("a city code is used twice")
        return self

    @property
    def state_dir(self) -> Path:
        return (self.root / self.deployment.state_dir).resolve()

    @property
    def key_dir(self) -> Path:
        return (self.root / self.deployment.key_dir).resolve()

    def city(self, code: str) -> CityConfig:
        for city in self.cities:
            if city.code == code:
                return city
        raise KeyError(code)

    def chain(self, chain_id: str) -> ChainConfig:
        for chain in self.chains:
            if chain.id == chain_id:
                return chain
        raise KeyError(chain_id)

    def kiosks(self) -> Iterator[tuple[ChainConfig, KioskConfig]]:
        for chain in self.chains:
            for kiosk in chain.kiosks:
                yield chain, kiosk

    def services(self) -> Iterator[tuple[Role, ServiceConfig | KioskConfig]]:
        """Every role instance of the deployment, in chain order from kiosk to issuer."""
        for _chain, kiosk in self.kiosks():
            yield Role.KIOSK, kiosk
        for chain in self.chains:
            yield Role.STOREHQ, chain.hq
        yield Role.CENTER, self.center
        yield Role.JPKI, self.jpki
        for city in self.cities:
            yield Role.FORWARDER, city.forwarder
            for issuer in city.issuers:
                yield Role.ISSUER, issuer

    def database_url(self, url: str) -> str:
        """A database URL with a relative SQLite path resolved against the state folder."""
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
            rest = url[len(prefix) :]
            if rest != ":memory:":
                return prefix + str(self.state_dir / rest)
        return url


def check_lg_code(code: str) -> None:
    """Check the 6th digit of a local government code (全国地方公共団体コード, JIS X 0401/0402).

    The check digit is (11 - (sum of the first five digits weighted 6,5,4,3,2) mod 11) mod 10.
    """
    if len(code) != 6 or not code.isdigit():
        raise ValueError("a local government code has 6 digits")
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
    expected = (11 - total % 11) % 10
    if int(code[5]) != expected:
        raise ValueError(f"check digit of {code} should be {expected}")
