"""The national issuance center (証明書交付センター): checks, routes and settles kiosk certificate requests."""

from yakuba.center.app import CenterRuntime, create_app, listen_segment
from yakuba.center.catalogue import Catalogue, CatalogueEntry, CityPolicy, ServiceHours
from yakuba.center.operations import find_suspension, resume_city, settlement_report
from yakuba.center.ports import LineStatus, SettlementLine, SettlementRow
from yakuba.center.service import CenterService

__all__ = [
    "Catalogue",
    "CatalogueEntry",
    "CenterRuntime",
    "CenterService",
    "CityPolicy",
    "LineStatus",
    "ServiceHours",
    "SettlementLine",
    "SettlementRow",
    "create_app",
    "find_suspension",
    "listen_segment",
    "resume_city",
    "settlement_report",
]
