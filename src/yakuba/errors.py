"""The one error tree of yakuba: every error a person may see has a stable code and a message in ja and en."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "CardError",
    "CardLockedError",
    "CardTamperedError",
    "ConfigError",
    "EligibilityError",
    "KindSuspendedError",
    "MaintenanceError",
    "NotFoundError",
    "PinFormatError",
    "ServiceClosedError",
    "StoreError",
    "TransactionConflictError",
    "UpstreamError",
    "UpstreamTimeout",
    "ValidationError",
    "VerificationError",
    "WrongPinError",
    "YakubaError",
]


class YakubaError(Exception):
    """Root of every error yakuba raises on purpose."""

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500
    message_ja: ClassVar[str] = "システムで問題が発生しました。係員にお問い合わせください。"
    message_en: ClassVar[str] = "Something went wrong in the system. Please ask the staff."

    def __init__(self, detail: str | None = None, *, ja: str | None = None) -> None:
        self.detail = detail
        self.detail_ja = ja
        super().__init__(detail or self.message_en)

    @property
    def text_en(self) -> str:
        """The English message, with the specific detail when there is one."""
        return self.detail or self.message_en

    @property
    def text_ja(self) -> str:
        """The Japanese message, with the specific detail when there is one."""
        return self.detail_ja or self.message_ja

    def to_body(self) -> dict[str, str]:
        """The one JSON body shape every service answers errors with."""
        return {"error": self.code, "message": self.text_en, "message_ja": self.text_ja}


class ConfigError(YakubaError):
    """The deployment configuration is missing, malformed or inconsistent."""

    code = "config_error"
    message_ja = "設定に誤りがあります。"
    message_en = "The configuration is invalid."


class ValidationError(YakubaError):
    """A request or an input value is malformed."""

    code = "invalid_input"
    http_status = 400
    message_ja = "入力内容に誤りがあります。"
    message_en = "The input is invalid."


class NotFoundError(YakubaError):
    """The thing asked for does not exist."""

    code = "not_found"
    http_status = 404
    message_ja = "該当するものが見つかりません。"
    message_en = "Not found."


class AuthenticationError(YakubaError):
    """The caller or the card could not be authenticated."""

    code = "authentication_failed"
    http_status = 401
    message_ja = "認証できませんでした。"
    message_en = "Authentication failed."


class AuthorizationError(YakubaError):
    """The caller is authenticated but not allowed to do this."""

    code = "forbidden"
    http_status = 403
    message_ja = "この操作は許可されていません。"
    message_en = "This operation is not allowed."


class CardError(YakubaError):
    """The My Number card cannot be used as it is."""

    code = "card_error"
    http_status = 400
    message_ja = "マイナンバーカードを読み取れませんでした。市区町村の窓口にお問い合わせください。"
    message_en = "The My Number card could not be read. Please contact your city office."


class PinFormatError(CardError):
    """A PIN was not exactly four digits; no try is used up."""

    code = "pin_format"
    message_ja = "暗証番号は数字4桁で入力してください。"
    message_en = "The PIN must be exactly 4 digits."


class WrongPinError(CardError):
    """The PIN was wrong; one try is used up."""

    code = "wrong_pin"
    message_ja = "暗証番号が違います。"
    message_en = "The PIN is wrong."

    def __init__(self, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(
            f"The PIN is wrong. Tries left before the card locks: {tries_left}.",
            ja=f"暗証番号が違います。あと{tries_left}回間違えるとカードがロックされます。",
        )


class CardLockedError(CardError):
    """The card's PIN is locked; only the city can reset it."""

    code = "card_locked"
    http_status = 423
    message_ja = "暗証番号がロックされています。お住まいの市区町村の窓口で解除してください。"
    message_en = "The PIN is locked. Please have it reset at your city office counter."


class CardTamperedError(CardError):
    """The card's contents fail their integrity check; the card is unusable."""

    code = "card_damaged"
    message_ja = "カードが破損しているため使用できません。市区町村の窓口にお問い合わせください。"
    message_en = "The card is damaged and cannot be used. Please contact your city office."


class VerificationError(YakubaError):
    """A signature, chain, seal, binding or proof did not verify."""

    code = "verification_failed"
    http_status = 400
    message_ja = "検証に失敗しました。"
    message_en = "Verification failed."


class EligibilityError(YakubaError):
    """The applicant may not obtain this certificate at a kiosk."""

    code = "not_eligible"
    http_status = 403
    message_ja = "この証明書はコンビニ交付では発行できません。市区町村の窓口にお問い合わせください。"
    message_en = "This certificate cannot be issued at a kiosk. Please contact your city office."


class ServiceClosedError(YakubaError):
    """The service is outside its hours for this city or kind."""

    code = "service_closed"
    http_status = 503
    message_ja = "ただいまサービス提供時間外です。"
    message_en = "The service is not available at this time."


class KindSuspendedError(ServiceClosedError):
    """The city suspended this certificate kind from its operations console, until staff lift it."""

    code = "kind_suspended"
    message_ja = "この証明書の交付は現在停止しています。市区町村の窓口にお問い合わせください。"
    message_en = "This certificate is not being issued at the moment. Please ask at the city office."


class MaintenanceError(ServiceClosedError):
    """The city's systems are in a maintenance window set from its operations console."""

    code = "maintenance"
    message_ja = "ただいまシステムの保守作業中です。保守の終了後にご利用ください。"
    message_en = "The city's systems are under maintenance. Please try again after the maintenance."


class UpstreamError(YakubaError):
    """A neighbouring service failed or answered wrongly; the transaction is aborted."""

    code = "upstream_error"
    http_status = 502
    message_ja = "通信に失敗しました。取引は中止され、料金はかかりません。"
    message_en = "Communication failed. The transaction was cancelled and nothing was charged."


class UpstreamTimeout(UpstreamError):
    """A neighbouring service did not answer in time; the transaction is aborted."""

    code = "upstream_timeout"
    http_status = 504
    message_ja = "応答がありませんでした。取引は中止され、料金はかかりません。"
    message_en = "No answer in time. The transaction was cancelled and nothing was charged."


class TransactionConflictError(YakubaError):
    """A transaction id came again with another request, another card or another outcome; nothing was done."""

    code = "transaction_conflict"
    http_status = 409
    message_ja = "この取引番号はすでに別の内容で使われています。最初からやり直してください。"
    message_en = "This transaction id was already used with different content. Please start again."


class StoreError(YakubaError):
    """Persistence failed; nothing was written."""

    code = "store_error"
    message_ja = "記録の保存に失敗しました。"
    message_en = "Saving the record failed; nothing was written."
