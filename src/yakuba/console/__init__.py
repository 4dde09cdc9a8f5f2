"""The city operations console: staff pages (statistics, settlement, log, alerts, service controls, audit
log, encryption map) and the public verification page, served over HTTPS per city."""

from yakuba.console.accounts import PasswordHashing, Staff, StaffRole
from yakuba.console.errors import CsrfError, LoginFailedError, RoleRequiredError, SessionRequiredError, StaffExistsError
from yakuba.console.service import ConsoleAccess, StaffSession

__all__ = [
    "ConsoleAccess",
    "CsrfError",
    "LoginFailedError",
    "PasswordHashing",
    "RoleRequiredError",
    "SessionRequiredError",
    "Staff",
    "StaffExistsError",
    "StaffRole",
    "StaffSession",
]
