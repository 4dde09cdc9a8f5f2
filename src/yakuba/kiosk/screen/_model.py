"""What the kiosk screen is configured with and what one rendering of it shows (never anything personal)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from yakuba.kiosk.screen._texts import Guidance
from yakuba.kiosk.service import FeeQuote, KioskCardReader, KioskSession, Payment, PrintReceipt

__all__ = [
    "HONSEKI_KINDS",
    "KIND_OPTIONS",
    "OFFERED_COINS",
    "City",
    "Resident",
    "Screen",
    "ScreenSettings",
    "SlotCard",
    "View",
]

HONSEKI_KINDS = ("koseki-zenbu", "koseki-kojin", "fuhyo")
"""A 本籍地 request is for the family-register certificates only."""

KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    "juminhyo": ("show_honseki", "show_relationship", "show_individual_number"),
    "fuhyo": ("show_honseki",),
}
"""The yes/no options the screen offers per kind (member positions are not chosen at the kiosk: a 住民票 is of
the whole household); the city refuses one it does not allow, and the screen shows that refusal."""

OFFERED_COINS = (5, 10, 50, 100, 500, 1000, 5000)
"""The coin-slot simulation's buttons: the accepted denominations plus a 5-yen coin and a 5000-yen note, which
the coin box hands back (to show that path)."""


class Screen(enum.StrEnum):
    """The screen shown; the value is the page's ``data-screen`` attribute."""

    HOME = "home"
    CARD = "card"
    BASIS = "basis"
    KIND = "kind"
    OPTIONS = "options"
    COPIES = "copies"
    PIN = "pin"
    REMOVE_CARD = "remove-card"
    WORKING = "working"
    FEE = "fee"
    PAY = "pay"
    PRINTING = "printing"
    TAKE = "take"
    DONE = "done"
    VOID = "void"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenSettings:
    """Where the simulated hardware lives and how patient the screen is.

    CARD_SLOT is the folder of card files standing in for the reader (a card is "placed" by choosing one); TRAY
    is the printer's output tray, where taken certificates land as PDF files. IDLE_SECONDS without input
    anywhere in the flow (except while the system works or the take-your-certificate reminder sounds) resets the
    screen; the end screens reset after END_SECONDS. PRINT_SECONDS_PER_COPY is the simulated printing time.
    """

    card_slot: Path
    tray: Path
    idle_seconds: float = 90.0
    end_seconds: float = 15.0
    print_seconds_per_copy: float = 2.0


class SlotCard(KioskCardReader, Protocol):
    """A card placed on the reader: the kiosk's reader protocol, plus the city the card was issued by."""

    @property
    def city_code(self) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class City:
    """A city on the 本籍地 list."""

    code: str
    name_ja: str
    name_en: str


@dataclass(frozen=True, slots=True, kw_only=True)
class View:
    """One rendering of the screen: everything the template needs, nothing of the resident's identity."""

    screen: Screen
    lang: str
    token: str
    version: int
    card_in: bool
    slot_cards: tuple[str, ...]
    cities: tuple[City, ...]
    kinds: tuple[str, ...]
    kind: str | None
    kind_options: tuple[str, ...]
    options: frozenset[str]
    copies: int
    max_copies: int
    tries_left: int | None
    pin_message: tuple[str, str] | None
    quote: FeeQuote | None
    payment: Payment | None
    rejected: int | None
    receipt: PrintReceipt | None
    guidance: Guidance | None
    refusal_code: str | None
    refusal_message: tuple[str, str] | None
    returned: tuple[int, ...]
    jam: bool | None
    print_seconds: float
    coins: tuple[int, ...] = OFFERED_COINS


@dataclass(slots=True, kw_only=True)
class Resident:
    """Everything the screen holds for the resident at the machine. A reset replaces it whole, so nothing of the
    previous resident stays reachable; TOKEN, in every form of the page, makes their stale page inert."""

    token: str
    last_input: float
    lang: str
    screen: Screen = Screen.HOME
    session: KioskSession | None = None
    card: SlotCard | None = None
    basis: str | None = None
    kind: str | None = None
    options: set[str] = field(default_factory=set)
    copies: int = 1
    tries_left: int | None = None
    pin_message: tuple[str, str] | None = None
    quote: FeeQuote | None = None
    payment: Payment | None = None
    inserted: list[int] = field(default_factory=list)
    """Coins accepted into escrow so far: an aborted session refunds exactly these."""
    rejected: int | None = None
    receipt: PrintReceipt | None = None
    guidance: Guidance | None = None
    refusal_code: str | None = None
    refusal_message: tuple[str, str] | None = None
    returned: tuple[int, ...] = ()
