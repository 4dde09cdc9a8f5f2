"""The errors `yakuba.documents` raises, each a subclass of the one yakuba error tree."""

from __future__ import annotations

from yakuba.errors import ConfigError, ValidationError, VerificationError

__all__ = [
    "ContentMismatchError",
    "FieldTooLongError",
    "FontNotFoundError",
    "MissingElementError",
    "SignatureInvalidError",
]


class FieldTooLongError(ValidationError):
    """A value does not fit its field on the certificate; it is refused, never cut off."""

    code = "document_field_too_long"
    message_ja = "証明書の欄に収まらない項目があるため発行できません。窓口にお問い合わせください。"
    message_en = "A value does not fit its field on the certificate; please ask at the city office."

    def __init__(self, *, field: str, width: float, limit: float) -> None:
        # The value itself (a name, an address) never goes into the message: errors reach logs and screens.
        self.field = field
        self.width = width
        self.limit = limit
        super().__init__(
            f"{field}: the value is {width:g} em wide, the field holds {limit:g} em; refused rather than cut off",
            ja=f"{field}: 値が欄の幅（{limit:g}文字分）を超えるため、省略せず発行を中止しました",
        )


class MissingElementError(VerificationError):
    """A rendered page lacks a required element (seal, serial, date, certifying sentence, markers)."""

    code = "document_element_missing"
    message_ja = "証明書に必要な記載（公印・番号・日付など）が欠けているため発行できません。"
    message_en = "The certificate lacks a required element (seal, serial, date, ...) and was not issued."


class SignatureInvalidError(VerificationError):
    """The PDF signature, its certificate chain or the QR signature does not verify."""

    code = "document_signature_invalid"
    message_ja = "証明書の電子署名を確認できませんでした。"
    message_en = "The certificate's signature could not be verified."


class ContentMismatchError(VerificationError):
    """The signed QR summary does not match the document it is printed on."""

    code = "document_content_mismatch"
    message_ja = "証明書のQRコードと記載内容が一致しません。"
    message_en = "The certificate's QR code does not match its content."


class FontNotFoundError(ConfigError):
    """The Japanese fonts the certificates embed are not installed."""

    code = "font_not_found"
    message_ja = "証明書用の日本語フォントがインストールされていません。"
    message_en = "The Japanese fonts for certificates are not installed."
