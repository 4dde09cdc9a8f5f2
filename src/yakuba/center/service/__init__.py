"""The issuance center's logic: challenges, the checked and routed issuance, completions, settlement."""

from yakuba.center.service._center import CenterService
from yakuba.center.service._issuance import ANSWER_MISMATCH
from yakuba.center.service._issuance import _routed as _routed  # tests route a submission as the service does

__all__ = ["ANSWER_MISMATCH", "CenterService"]
