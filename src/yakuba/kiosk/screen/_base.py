"""The screen controller underneath its steps: one resident's record, what is read from it, resets and refusals."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from yakuba.errors import YakubaError
from yakuba.kiosk.errors import StepOrderError
from yakuba.kiosk.screen._model import (
    HONSEKI_KINDS,
    KIND_OPTIONS,
    City,
    Resident,
    Screen,
    ScreenSettings,
    SlotCard,
    View,
)
from yakuba.kiosk.screen._texts import KIND_NAMES, LANGUAGES, guidance_for
from yakuba.kiosk.service import Kiosk, KioskSession, SpoolPrinter, Step
from yakuba.pki.card import CARD_FILE_SUFFIX
from yakuba.wire.messages import MAX_COPIES

__all__ = ["Form", "ScreenBase"]

_log = logging.getLogger("yakuba.kiosk.screen")

_NOT_IDLE = frozenset({Screen.WORKING, Screen.PRINTING, Screen.TAKE})
"""Screens the inactivity reset leaves alone: the system is working, or the reminder sounds until the resident
presses stop (the paper is out and paid for). The home screen is reset only to switch back to Japanese."""

_END = frozenset({Screen.DONE, Screen.VOID, Screen.REFUSED})

Form = Mapping[str, str | list[str]]


class ScreenBase:
    """One kiosk's screen underneath its steps (`ScreenController` is the whole screen; see its docstring)."""

    def __init__(
        self,
        *,
        kiosk: Kiosk,
        settings: ScreenSettings,
        cities: Sequence[City],
        open_card: Callable[[Path], SlotCard],
        monotonic: Callable[[], float],
    ) -> None:
        self._kiosk = kiosk
        self._settings = settings
        self._cities = tuple(cities)
        self._open_card = open_card
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._version = 0
        self._task: asyncio.Task[None] | None = None
        self._r: Resident

    # -- reading -----------------------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Changes whenever the screen does; the page polls it and redraws."""
        return self._version

    @property
    def screen(self) -> Screen:
        return self._r.screen

    def slot_cards(self) -> tuple[str, ...]:
        """The card files in the card slot folder (the cards one can place on the simulated reader)."""
        folder = self._settings.card_slot
        if not folder.is_dir():
            return ()
        return tuple(sorted(p.name for p in folder.iterdir() if p.suffix == CARD_FILE_SUFFIX and p.is_file()))

    def view(self) -> View:
        printer = self._kiosk.printer
        return View(
            screen=self._r.screen,
            lang=self._r.lang,
            token=self._r.token,
            version=self._version,
            card_in=self._r.card is not None,
            slot_cards=self.slot_cards() if self._r.screen is Screen.CARD else (),
            cities=self._cities,
            kinds=HONSEKI_KINDS if self._r.basis == "honseki" else tuple(KIND_NAMES),
            kind=self._r.kind,
            kind_options=KIND_OPTIONS.get(self._r.kind or "", ()),
            options=frozenset(self._r.options),
            copies=self._r.copies,
            max_copies=MAX_COPIES,
            tries_left=self._r.tries_left,
            pin_message=self._r.pin_message,
            quote=self._r.quote,
            payment=self._r.payment,
            rejected=self._r.rejected,
            receipt=self._r.receipt,
            guidance=self._r.guidance,
            refusal_code=self._r.refusal_code,
            refusal_message=self._r.refusal_message,
            returned=self._r.returned,
            jam=printer.jammed if isinstance(printer, SpoolPrinter) else None,
            print_seconds=self._settings.print_seconds_per_copy * self._r.copies,
        )

    # -- inside ------------------------------------------------------------------------------------------------

    def _fresh(self) -> None:
        """A clean screen for the next resident: the whole record is replaced, so nothing of the previous one is
        reachable from here."""
        self._r = Resident(token=secrets.token_urlsafe(18), last_input=self._monotonic(), lang=LANGUAGES[0])

    async def _drop(self) -> None:
        """End whatever is going on (coins back, card ejected, an untaken certificate to the tray) and start
        fresh."""
        session, card = self._r.session, self._r.card
        try:
            if session is not None and session.card_inserted:
                await session.remove_card()
            elif card is not None:
                card.end_session()
            if session is not None and session.step is Step.PRINTED:
                await session.take_certificate(hand_to=self._settings.tray)
            elif session is not None and not session.finished:
                await session.cancel()
        except YakubaError as exc:
            _log.warning("ending the transaction on reset failed (%s)", exc.code)
        self._fresh()
        self._changed()

    def _background(self, screen: Screen, work: Callable[[], Awaitable[None]]) -> None:
        self._r.screen = screen

        async def run() -> None:
            async with self._lock:
                try:
                    await work()
                except YakubaError as exc:
                    self._refuse(exc)
                except Exception:
                    _log.exception("the kiosk failed at %s", screen.value)
                    self._refuse(YakubaError())
                finally:
                    self._task = None
                    self._r.last_input = self._monotonic()
                    self._changed()

        self._task = asyncio.create_task(run(), name=f"kiosk-screen-{screen.value}")

    def _refuse(self, error: YakubaError | str) -> None:
        self._r.guidance = guidance_for(error)
        if isinstance(error, YakubaError):
            self._r.refusal_code = error.code
            # A detail without a Japanese version is technical (an address, an exception name): show the
            # class's own message in both languages then.
            english = error.text_en if error.detail_ja is not None else error.message_en
            self._r.refusal_message = (error.text_ja, english)
            _log.info("refusal shown: %s", error.code)
        else:
            self._r.refusal_code, self._r.refusal_message = error, None
        session = self._r.session
        if session is not None and session.finished and self._r.inserted:
            self._r.returned = tuple(self._r.inserted)  # an aborted session refunds the whole escrow
        self._r.inserted = []
        self._r.screen = Screen.REFUSED

    def _idle(self) -> bool:
        if self._r.screen in _NOT_IDLE or self._task is not None:
            return False
        if self._r.screen is Screen.HOME and self._r.lang == LANGUAGES[0]:
            return False
        limit = self._settings.end_seconds if self._r.screen in _END else self._settings.idle_seconds
        return self._monotonic() - self._r.last_input > limit

    def _expect(self, *screens: Screen) -> None:
        if self._r.screen not in screens:
            raise StepOrderError(f"not on screen {self._r.screen.value}")

    def _require_session(self) -> KioskSession:
        if self._r.session is None:
            raise StepOrderError("no transaction")
        return self._r.session

    def _changed(self) -> None:
        self._version += 1


def _field(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else (value[0] if value else "")
