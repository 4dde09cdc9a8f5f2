"""Fault profiles: what `yakuba torture --faults PROFILE` injects, and how often."""

from __future__ import annotations

from dataclasses import dataclass

from yakuba.errors import ValidationError

__all__ = ["PROFILES", "FaultProfile", "profile_named"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultProfile:
    """Faults injected by the TCP proxies on every link, by the kiosks and by the supervisor.

    Probabilities are per chunk of bytes a proxy passes (a request or a response is one to a few chunks), so
    they hit requests at every hop in both directions; a kept-alive connection carries many requests.
    """

    name: str
    delay_probability: float = 0.0
    """A chunk waits up to DELAY_MAX_S before it is passed on (slow links, slow peers)."""
    delay_max_s: float = 0.0
    drop_probability: float = 0.0
    """The connection is cut, both ways, instead of passing a chunk (a crashed peer, a reset link)."""
    stall_probability: float = 0.0
    """The connection goes silent for STALL_S, longer than every caller's timeout, then is cut."""
    stall_s: float = 25.0
    duplicate_probability: float = 0.0
    """A kiosk sends its submission (and its completion report) twice at once: a double tap, a retry racing
    the first try. Both must get the same document or one a refusal; never two documents."""
    kill_restart: bool = False
    """One center worker and one issuer worker per city are killed (SIGKILL) and restarted mid-run."""
    clock_skew_s: float = 0.0
    """One center worker, one issuer worker per city and a third of the kiosks run this far ahead or behind."""

    @property
    def any(self) -> bool:
        return any(
            (
                self.delay_probability,
                self.drop_probability,
                self.stall_probability,
                self.duplicate_probability,
                self.kill_restart,
                self.clock_skew_s,
            )
        )


PROFILES: dict[str, FaultProfile] = {
    profile.name: profile
    for profile in (
        FaultProfile(name="none"),
        # CI: every kind of fault, rarely enough that a few hundred issuances mostly print.
        FaultProfile(
            name="light",
            delay_probability=0.02,
            delay_max_s=0.3,
            drop_probability=0.002,
            stall_probability=0.0005,
            stall_s=22.0,
            duplicate_probability=0.05,
            kill_restart=True,
            clock_skew_s=20.0,
        ),
        FaultProfile(
            name="full",
            delay_probability=0.05,
            delay_max_s=1.0,
            drop_probability=0.005,
            stall_probability=0.001,
            stall_s=25.0,
            duplicate_probability=0.1,
            kill_restart=True,
            clock_skew_s=60.0,
        ),
    )
}
"""none: a clean run (a baseline); light: every fault, rarely (CI); full: every fault, often."""


def profile_named(name: str) -> FaultProfile:
    """The profile NAME; ValidationError listing the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValidationError(
            f"unknown fault profile {name!r} (known: {known})", ja=f"不明な障害プロファイル {name!r}（{known}）"
        ) from None
