"""The kiosk screen: the resident's whole flow as web pages, in Japanese with an English switch.

`yakuba kiosk screen DIR --kiosk K` serves it: plain HTTP on a loopback address only (the screen is the kiosk's
own local display; see `_server.py`), next to the kiosk terminal it drives over mTLS to HQ. The pages are a thin
layer over `yakuba.kiosk.service.KioskSession`: all state is on the server, the browser keeps nothing (no
storage, no cookies, no data in URLs, ``Cache-Control: no-store``), and a reset drops everything.

Flow (the state machine's order: the certificate is chosen before the PIN so the card signs the exact request):
home -> card -> basis -> kind -> [options] -> copies -> pin -> remove-card -> working -> fee -> pay -> printing
-> take -> done; a refusal at any step shows ``refused``; a printer jam on every copy shows ``void``.

Stable element ids (each also a ``data-testid``) for tests and other screens:

- ``body[data-screen]``: the screen shown (`Screen` values above); ``body[data-version]`` changes on redraw;
  ``body[data-lang]``: ja or en; ``body[data-beeps]``: reminder chimes sounded so far.
- ``#lang-switch``: Japanese / English.
- home: ``#start`` (行政サービス).
- card: the simulated reader lists the card slot folder's files as ``[data-card="<file name>"]``
  (data-testid ``card-<file name>``); ``#cancel``.
- basis: ``#basis-residence``, ``#basis-honseki-<city code>``; ``#tries-left``.
- kind: ``#kind-<kind>`` (juminhyo, juminhyo-kisai, inkan, kazei, shotoku, koseki-zenbu, koseki-kojin, fuhyo).
- options: ``#opt-<option>`` checkboxes, ``#options-next``, ``#back``.
- copies: ``#copies-<n>``, ``#back``.
- pin: ``#pin-pad`` with ``[data-digit="0".."9"]``, ``#pin-clear``, ``#pin-ok``, ``#pin-dots``,
  ``#tries-left``, ``#pin-message`` (wrong PIN, with the tries left).
- remove-card: ``#remove-card-prompt``; the reader's ``#sim-remove-card`` takes the card (also ``#sim-card-in``).
- working: ``#working``.
- fee: ``#fee-kind``, ``#fee-per-copy``, ``#fee-copies``, ``#fee-total`` (``data-yen``), ``#fee-confirm``.
- pay: ``#pay-due``, ``#pay-inserted``, ``#pay-remaining`` (``data-yen``), ``#pay-rejected``; the coin slot's
  ``#coin-<yen>`` (5, 10, 50, 100, 500, 1000, 5000).
- printing: ``#printing``, ``#print-progress``.
- take: ``#reminder`` (flashes and chimes), ``#voided-copies``, ``#take-stop``.
- done: ``#done``, ``#done-printed``, ``#change``; void: ``#void``, ``#returned``.
- refused: ``#refusal[data-code]`` (the error code), ``#refusal-title``, ``#refusal-message``,
  ``#refusal-next`` (what to do next), ``#returned``, ``#take-card-too``.
- every end screen: ``#to-start``; the printer's paper-jam switch: ``#sim-jam[data-jam=on|off]``.
"""

from __future__ import annotations

from yakuba.kiosk.screen._controller import ScreenController
from yakuba.kiosk.screen._model import City, Screen, ScreenSettings, SlotCard, View
from yakuba.kiosk.screen._server import RunningScreen, ScreenServer, card_slot_dir, open_screen, tray_dir
from yakuba.kiosk.screen._texts import Guidance, guidance_for
from yakuba.kiosk.screen._web import create_screen_app

__all__ = [
    "City",
    "Guidance",
    "RunningScreen",
    "Screen",
    "ScreenController",
    "ScreenServer",
    "ScreenSettings",
    "SlotCard",
    "View",
    "card_slot_dir",
    "create_screen_app",
    "guidance_for",
    "open_screen",
    "tray_dir",
]
