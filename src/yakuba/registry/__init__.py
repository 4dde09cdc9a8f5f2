"""The back office: residence records, households, seals, tax, family registers, card bindings, life events."""

from yakuba.registry._factory import CityRegistry, open_city_registry, registry_audit_trail, registry_log_name
from yakuba.registry._koseki_values import (
    KosekiEvent,
    KosekiEventKind,
    KosekiMember,
    KosekiRegister,
    PendingFiling,
    RegisterAddressEntry,
    RegisterStatus,
)
from yakuba.registry._numbers import check_juminhyo_code, check_my_number
from yakuba.registry._pki import EnrolledCard, PkiCardRevoker, enrol_resident_card
from yakuba.registry._ports import CardRevoker, RegistryTransaction, TransactionFactory
from yakuba.registry._tax_rules import FISCAL_YEAR_SWITCH, fiscal_year_on
from yakuba.registry._values import (
    Address,
    CardBinding,
    CardStatus,
    HistoryEntry,
    HonsekiUseRegistration,
    Household,
    HouseholdView,
    IncomeKind,
    NewPerson,
    Person,
    PersonName,
    ResidentStatus,
    SealRegistration,
    SealStatus,
    Sex,
    TaxRecord,
    TaxSnapshot,
    TaxStatement,
)
from yakuba.registry.errors import EventRefusedError, PersonNotFoundError, UnknownCityError
from yakuba.registry.generate import GenerationSummary, generate_city
from yakuba.registry.service import SEAL_MIN_AGE, CityIdentity, LifeEvents, run_tax_batch
from yakuba.registry.store import RegistryDatabase, SqlRegistryTransaction

__all__ = [
    "FISCAL_YEAR_SWITCH",
    "SEAL_MIN_AGE",
    "Address",
    "CardBinding",
    "CardRevoker",
    "CardStatus",
    "CityIdentity",
    "CityRegistry",
    "EnrolledCard",
    "EventRefusedError",
    "GenerationSummary",
    "HistoryEntry",
    "HonsekiUseRegistration",
    "Household",
    "HouseholdView",
    "IncomeKind",
    "KosekiEvent",
    "KosekiEventKind",
    "KosekiMember",
    "KosekiRegister",
    "LifeEvents",
    "NewPerson",
    "PendingFiling",
    "Person",
    "PersonName",
    "PersonNotFoundError",
    "PkiCardRevoker",
    "RegisterAddressEntry",
    "RegisterStatus",
    "RegistryDatabase",
    "RegistryTransaction",
    "ResidentStatus",
    "SealRegistration",
    "SealStatus",
    "Sex",
    "SqlRegistryTransaction",
    "TaxRecord",
    "TaxSnapshot",
    "TaxStatement",
    "TransactionFactory",
    "UnknownCityError",
    "check_juminhyo_code",
    "check_my_number",
    "enrol_resident_card",
    "fiscal_year_on",
    "generate_city",
    "open_city_registry",
    "registry_audit_trail",
    "registry_log_name",
    "run_tax_batch",
]
