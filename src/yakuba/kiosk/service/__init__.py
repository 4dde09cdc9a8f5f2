"""The kiosk's logic: the resident's flow as a state machine, the coin box, the printer; free of HTTP and ORM."""

from yakuba.kiosk.service._coins import ACCEPTED_DENOMINATIONS, CHANGE_DENOMINATIONS, CoinBox, coins_for
from yakuba.kiosk.service._history import HistoryLine, run_history
from yakuba.kiosk.service._ports import HqLink, KioskCardReader, KioskLog, LogEntry, Printer
from yakuba.kiosk.service._printer import SpoolPrinter, spool_name
from yakuba.kiosk.service._session import SEALING_PURPOSE, STEP_TIMEOUT, Kiosk, KioskSession
from yakuba.kiosk.service._values import CardStatus, FeeQuote, Payment, PrintReceipt, Step
from yakuba.kiosk.service._walkthrough import Choice, run_transaction

__all__ = [
    "ACCEPTED_DENOMINATIONS",
    "CHANGE_DENOMINATIONS",
    "SEALING_PURPOSE",
    "STEP_TIMEOUT",
    "CardStatus",
    "Choice",
    "CoinBox",
    "FeeQuote",
    "HistoryLine",
    "HqLink",
    "Kiosk",
    "KioskCardReader",
    "KioskLog",
    "KioskSession",
    "LogEntry",
    "Payment",
    "PrintReceipt",
    "Printer",
    "SpoolPrinter",
    "Step",
    "coins_for",
    "run_history",
    "run_transaction",
    "spool_name",
]
