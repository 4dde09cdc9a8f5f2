"""Deployment configuration: one TOML file, one loader, frozen typed objects."""

from yakuba.config._loader import CONFIG_FILE_NAME, find_config, load_deployment
from yakuba.config._model import (
    CenterConfig,
    ChainConfig,
    CityConfig,
    ConsoleConfig,
    Deployment,
    DeploymentSection,
    IssuerConfig,
    JpkiConfig,
    KioskConfig,
    Role,
    ServiceConfig,
    check_lg_code,
)
from yakuba.config._sample import BASE_PORT, SAMPLE_PORTS, sample_deployment, write_sample
from yakuba.config._topology import Segment, segments

__all__ = [
    "BASE_PORT",
    "CONFIG_FILE_NAME",
    "SAMPLE_PORTS",
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
    "Segment",
    "ServiceConfig",
    "check_lg_code",
    "find_config",
    "load_deployment",
    "sample_deployment",
    "segments",
    "write_sample",
]
