"""The council's report: consultations with live verdicts, encryption map, statistics, registers; PDF and HTML."""

from yakuba.council.report._build import SECTION_TITLES, CouncilReport, build_report, write_report
from yakuba.council.report._charts import encryption_map_png
from yakuba.council.report._figures import IssuanceStatistics, Period, issuance_statistics

__all__ = [
    "SECTION_TITLES",
    "CouncilReport",
    "IssuanceStatistics",
    "Period",
    "build_report",
    "encryption_map_png",
    "issuance_statistics",
    "write_report",
]
