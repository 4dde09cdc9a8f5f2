"""`yakuba torture`: many kiosks and cards at once through a multi-process deployment with faults on every
link, then every rule the real incidents broke checked on every transaction; and the soak's memory watch."""

from yakuba.torture._checks import RULES, CheckReport, Violation, check_run
from yakuba.torture._deployment import RunDeployment, build_deployment, service_hours_offset
from yakuba.torture._driver import Attempt, DriveResult, drive
from yakuba.torture._profiles import PROFILES, FaultProfile, profile_named
from yakuba.torture._proxy import FaultProxy, ProxyHost
from yakuba.torture._run import TortureOptions, TortureReport, run_torture
from yakuba.torture._soak import ProcessSeries, Sampler
from yakuba.torture._town import TortureCard, make_cards
from yakuba.torture._verdict import print_verdict, report_json

__all__ = [
    "PROFILES",
    "RULES",
    "Attempt",
    "CheckReport",
    "DriveResult",
    "FaultProfile",
    "FaultProxy",
    "ProcessSeries",
    "ProxyHost",
    "RunDeployment",
    "Sampler",
    "TortureCard",
    "TortureOptions",
    "TortureReport",
    "Violation",
    "build_deployment",
    "check_run",
    "drive",
    "make_cards",
    "print_verdict",
    "profile_named",
    "report_json",
    "run_torture",
    "service_hours_offset",
]
