"""The errors the kiosk raises, each a subclass of the one yakuba error tree; messages are shown to the resident."""

from __future__ import annotations

from yakuba.errors import ValidationError, VerificationError, YakubaError

__all__ = [
    "CardStillInsertedError",
    "CoinRejectedError",
    "DocumentRefusedError",
    "KioskTimeoutError",
    "PaperJamError",
    "StepOrderError",
]


class StepOrderError(ValidationError):
    """A step was asked for out of the order of the resident's flow."""

    code = "kiosk_step_out_of_order"
    http_status = 409
    message_ja = "この操作は今はできません。画面の案内に従ってください。"
    message_en = "This cannot be done now. Please follow the screen."


class CardStillInsertedError(StepOrderError):
    """The flow does not go on until the card is taken out of the reader."""

    code = "card_still_inserted"
    message_ja = "カードをお取りください。カードを取るまで次に進めません。"
    message_en = "Please take your card. The kiosk will not go on until the card is removed."


class CoinRejectedError(ValidationError):
    """A coin or note the coin box does not accept; it is returned at once."""

    code = "coin_rejected"
    message_ja = "この硬貨・紙幣は使用できません。10円・50円・100円・500円硬貨、1000円札をお使いください。"
    message_en = "This coin or note is not accepted. Please use 10, 50, 100 or 500 yen coins or 1000 yen notes."


class DocumentRefusedError(VerificationError):
    """The certificate received is not bound to this transaction, card and request, or does not verify."""

    code = "document_refused"
    message_ja = "証明書を確認できなかったため、発行を中止しました。料金はかかりません。"
    message_en = "The certificate could not be verified, so it was not issued. Nothing was charged."


class KioskTimeoutError(YakubaError):
    """The resident took too long at a step; the transaction was cancelled and everything refunded."""

    code = "kiosk_timeout"
    http_status = 408
    message_ja = "一定時間操作がなかったため、取引を中止しました。料金はかかりません。"
    message_en = "The transaction was cancelled after a period without input. Nothing was charged."


class PaperJamError(YakubaError):
    """The printer jammed on a sheet; that copy is void and not charged."""

    code = "paper_jam"
    message_ja = "用紙が詰まりました。詰まった用紙は無効となり、料金はかかりません。"
    message_en = "The paper jammed. The jammed sheet is void and is not charged."
