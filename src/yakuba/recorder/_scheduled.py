"""Entry points for the CLI and `yakuba up`: create a deployment's recorder, run its retention sweep."""

from __future__ import annotations

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.recorder._recorder import Recorder, SweepReport
from yakuba.recorder.service import sample_fleet

__all__ = ["INSTALLER", "INSTALL_WITNESS", "SWEEP_INTERVAL_S", "init_recorder", "run_sweep"]

SWEEP_INTERVAL_S = 15 * 60
"""`yakuba up` sweeps every 15 minutes: footage leaves within a quarter hour of its week, cheaply."""

INSTALLER = "rec01"
"""The sample records officer who installs the sample fleet and registers its cards."""
INSTALL_WITNESS = "sup01"
"""The sample supervisor who counter-signs the cards going into the recorders."""


def init_recorder(dep: Deployment, *, seed: int = 8, clock: Clock | None = None) -> Recorder:
    """Create the deployment's recorder database with the sample fleet, staff and cards (once)."""
    recorder = Recorder.from_deployment(dep, clock=clock)
    if not recorder.cards():
        recorder.install_fleet(sample_fleet(seed=seed), staff_id=INSTALLER, counter_staff_id=INSTALL_WITNESS)
    return recorder


def run_sweep(
    dep: Deployment, *, clock: Clock | None = None, confirmed_by: str | None = None, confirm_count: int | None = None
) -> SweepReport:
    """One retention sweep of the deployment's recorder; the function `yakuba up` schedules (unconfirmed)."""
    return Recorder.from_deployment(dep, clock=clock).sweep(confirmed_by=confirmed_by, confirm_count=confirm_count)
