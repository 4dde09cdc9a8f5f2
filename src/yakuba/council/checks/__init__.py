"""The council's conditions as checks the system runs against itself: each raises, `judge` gives the verdict."""

from yakuba.council.checks._network import (
    PROBE_TIMEOUT,
    HopProbe,
    KeyHolder,
    check_mutual_tls,
    check_sealed_end_to_end,
    key_holders,
    probe_network,
    what_crosses,
)
from yakuba.council.checks._recorder import (
    ERASE_GRACE,
    ProvisionLike,
    ProvisionRegister,
    check_media_ledger,
    check_provisions,
    check_retention_window,
    check_views_have_purpose,
    provision_register,
)
from yakuba.council.checks._relays import check_relays_hold_nothing_personal, personal_values, relay_files
from yakuba.council.checks._runner import CHECK_IDS, LiveFindings, run_checks
from yakuba.council.checks._verdict import CheckResult, Evidence, Verdict, broken, cannot_tell, judge

__all__ = [
    "CHECK_IDS",
    "ERASE_GRACE",
    "PROBE_TIMEOUT",
    "CheckResult",
    "Evidence",
    "HopProbe",
    "KeyHolder",
    "LiveFindings",
    "ProvisionLike",
    "ProvisionRegister",
    "Verdict",
    "broken",
    "cannot_tell",
    "check_media_ledger",
    "check_mutual_tls",
    "check_provisions",
    "check_relays_hold_nothing_personal",
    "check_retention_window",
    "check_sealed_end_to_end",
    "check_views_have_purpose",
    "judge",
    "key_holders",
    "personal_values",
    "probe_network",
    "provision_register",
    "relay_files",
    "run_checks",
    "what_crosses",
]
