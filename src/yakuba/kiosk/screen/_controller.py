"""The kiosk screen's server-side state: one resident at a time, driving the kiosk's transaction state machine.

The browser holds nothing: every press is a form post naming an action, the controller checks it belongs to the
screen shown (and to this resident, by a token renewed at every reset), drives `KioskSession`, and the page is
drawn again from `view()`. Work that talks to the network or the printer runs in a background task while the
screen says so. A watchdog resets the screen after inactivity: the transaction is cancelled (coins returned),
a card left on the reader is ejected, and every value of the previous resident is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from yakuba.errors import CardLockedError, PinFormatError, WrongPinError, YakubaError
from yakuba.kiosk.errors import CoinRejectedError, StepOrderError
from yakuba.kiosk.screen._base import _END, Form, ScreenBase, _field
from yakuba.kiosk.screen._model import KIND_OPTIONS, OFFERED_COINS, City, Screen, ScreenSettings, SlotCard
from yakuba.kiosk.screen._texts import LANGUAGES
from yakuba.kiosk.service import Kiosk, Payment, SpoolPrinter
from yakuba.wire.messages import MAX_COPIES

__all__ = ["WATCH_INTERVAL", "ScreenController"]

_log = logging.getLogger("yakuba.kiosk.screen")

WATCH_INTERVAL = 0.25
"""Seconds between two looks of the inactivity watchdog."""


class ScreenController(ScreenBase):
    """The screen of one kiosk (one resident at a time); every method is safe to call from request handlers."""

    def __init__(
        self,
        *,
        kiosk: Kiosk,
        settings: ScreenSettings,
        cities: Sequence[City],
        open_card: Callable[[Path], SlotCard],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(kiosk=kiosk, settings=settings, cities=cities, open_card=open_card, monotonic=monotonic)
        self._actions: dict[str, Callable[[Form], Awaitable[None]]] = {
            "start": self._start,
            "insert": self._insert,
            "basis": self._basis_chosen,
            "kind": self._kind_chosen,
            "options": self._options_chosen,
            "copies": self._copies_chosen,
            "back": self._back,
            "pin": self._pin,
            "remove": self._remove,
            "confirm": self._confirm,
            "coin": self._coin,
            "cancel": self._cancel,
            "stop": self._stop,
            "reset": self._reset_action,
            "lang": self._lang_switch,
            "jam": self._jam_switch,
        }
        self._fresh()

    # -- acting ------------------------------------------------------------------------------------------------

    async def act(self, action: str, form: Form) -> None:
        """Do ACTION with FORM's fields, if FORM carries this resident's token; anything else is ignored."""
        handler = self._actions.get(action)
        async with self._lock:
            if handler is None or _field(form, "t") != self._r.token:
                return  # a stale page (previous resident) or a forged post: nothing happens
            self._r.last_input = self._monotonic()
            try:
                await handler(form)
            except StepOrderError:
                _log.debug("ignored %s at %s", action, self._r.screen.value)
            except YakubaError as exc:
                self._refuse(exc)
            except Exception:
                _log.exception("the screen failed at %s", self._r.screen.value)
                self._refuse(YakubaError())
            self._changed()

    async def watch(self) -> None:
        """The inactivity watchdog: runs until cancelled."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            if self._idle():
                async with self._lock:
                    if self._idle():
                        _log.info("screen reset after inactivity at %s", self._r.screen.value)
                        await self._drop()

    async def settled(self) -> None:
        """Return once no background work (asking the city, printing) is running."""
        while (task := self._task) is not None:
            await asyncio.wait({task})

    async def close(self) -> None:
        """Shut down: wait for background work, then end the transaction as a reset would."""
        await self.settled()
        async with self._lock:
            await self._drop()

    # -- the steps ---------------------------------------------------------------------------------------------

    async def _start(self, form: Form) -> None:
        self._expect(Screen.HOME)
        self._r.session = self._kiosk.new_session()
        await self._r.session.start()
        self._r.screen = Screen.CARD

    async def _insert(self, form: Form) -> None:
        self._expect(Screen.CARD)
        name = _field(form, "card")
        if name not in self.slot_cards():
            return
        self._r.card = self._open_card(self._settings.card_slot / name)
        status = await self._require_session().insert_card(self._r.card)
        self._r.tries_left = status.tries_left
        self._r.screen = Screen.BASIS

    async def _basis_chosen(self, form: Form) -> None:
        self._expect(Screen.BASIS)
        basis, city = _field(form, "basis"), _field(form, "city")
        if basis == "residence" and self._r.card is not None:
            city = self._r.card.city_code
        elif basis != "honseki" or city not in {c.code for c in self._cities}:
            return
        await self._require_session().choose_basis(basis, city)
        self._r.basis = basis
        self._r.screen = Screen.KIND

    async def _kind_chosen(self, form: Form) -> None:
        self._expect(Screen.KIND)
        kind = _field(form, "kind")
        if kind not in self.view().kinds:
            return
        self._r.kind, self._r.options = kind, set()
        self._r.screen = Screen.OPTIONS if kind in KIND_OPTIONS else Screen.COPIES

    async def _options_chosen(self, form: Form) -> None:
        self._expect(Screen.OPTIONS)
        chosen = form.get("option", [])
        picked = [chosen] if isinstance(chosen, str) else chosen
        self._r.options = {o for o in picked if o in KIND_OPTIONS.get(self._r.kind or "", ())}
        self._r.screen = Screen.COPIES

    async def _back(self, form: Form) -> None:
        if self._r.screen is Screen.OPTIONS:
            self._r.screen = Screen.KIND
        elif self._r.screen is Screen.COPIES:
            self._r.screen = Screen.OPTIONS if self._r.kind in KIND_OPTIONS else Screen.KIND

    async def _copies_chosen(self, form: Form) -> None:
        self._expect(Screen.COPIES)
        raw = _field(form, "copies")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_COPIES or self._r.kind is None:
            return
        self._r.copies = int(raw)
        session = self._require_session()
        await session.choose(self._r.kind, {o: True for o in sorted(self._r.options)}, self._r.copies)
        self._r.tries_left = session.pin_tries_left()
        self._r.screen = Screen.PIN

    async def _pin(self, form: Form) -> None:
        self._expect(Screen.PIN)
        session = self._require_session()
        try:
            await session.enter_pin(_field(form, "pin"))
        except WrongPinError as exc:
            self._r.tries_left = exc.tries_left
            self._r.pin_message = (exc.text_ja, exc.text_en)
            return
        except PinFormatError as exc:
            self._r.pin_message = (exc.text_ja, exc.text_en)
            return
        except CardLockedError:
            self._r.tries_left = 0
            raise
        self._r.pin_message = None
        self._r.screen = Screen.REMOVE_CARD

    async def _remove(self, form: Form) -> None:
        card, session = self._r.card, self._r.session
        if card is None:
            return
        self._r.card = None
        if session is not None and session.card_inserted:
            await session.remove_card()
        else:
            card.end_session()
        if self._r.screen is Screen.REMOVE_CARD:
            self._background(Screen.WORKING, self._request)
        elif self._r.screen not in _END:
            self._refuse("cancelled")  # the card taken before the PIN ends the transaction

    async def _request(self) -> None:
        self._r.quote = await self._require_session().request_issuance()
        self._r.screen = Screen.FEE

    async def _confirm(self, form: Form) -> None:
        self._expect(Screen.FEE)
        quote = await self._require_session().confirm_fee()
        if quote.total_yen == 0:
            self._background(Screen.PRINTING, self._print)
            return
        self._r.payment = Payment(inserted=0, due=quote.total_yen, remaining=quote.total_yen)
        self._r.screen = Screen.PAY

    async def _coin(self, form: Form) -> None:
        self._expect(Screen.PAY)
        raw = _field(form, "coin")
        if not raw.isdigit() or int(raw) not in OFFERED_COINS:
            return
        coin = int(raw)
        try:
            self._r.payment = await self._require_session().pay(coin)
        except CoinRejectedError:
            self._r.rejected = coin
            return
        self._r.rejected = None
        if not self._r.payment.returned:
            self._r.inserted.append(coin)
        if self._r.payment.complete:
            self._background(Screen.PRINTING, self._print)

    async def _print(self) -> None:
        await asyncio.sleep(self._settings.print_seconds_per_copy * self._r.copies)
        receipt = await self._require_session().print()
        self._r.receipt, self._r.inserted = receipt, []
        if receipt.printed:
            self._r.screen = Screen.TAKE
        else:
            self._r.returned = receipt.change
            self._r.screen = Screen.VOID

    async def _stop(self, form: Form) -> None:
        self._expect(Screen.TAKE)
        await self._require_session().take_certificate(hand_to=self._settings.tray)
        self._r.screen = Screen.DONE

    async def _cancel(self, form: Form) -> None:
        if self._r.screen is Screen.CARD:
            await self._drop()
            return
        self._expect(Screen.BASIS, Screen.KIND, Screen.OPTIONS, Screen.COPIES, Screen.PIN, Screen.FEE, Screen.PAY)
        self._r.returned = await self._require_session().cancel()
        self._r.inserted = []
        self._refuse("cancelled")

    async def _reset_action(self, form: Form) -> None:
        self._expect(*_END)
        await self._drop()

    async def _lang_switch(self, form: Form) -> None:
        self._r.lang = LANGUAGES[(LANGUAGES.index(self._r.lang) + 1) % len(LANGUAGES)]

    async def _jam_switch(self, form: Form) -> None:
        printer = self._kiosk.printer
        if isinstance(printer, SpoolPrinter) and self._r.screen is not Screen.PRINTING:
            if printer.jammed:
                printer.jam_on()
            else:
                printer.jam_on(*range(1, MAX_COPIES + 1))
