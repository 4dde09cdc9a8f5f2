"""Errors of the forwarding server: a request for another city, a kind no issuer of the city holds."""

from __future__ import annotations

from yakuba.errors import NotFoundError, ValidationError

__all__ = ["KindNotOfferedError", "WrongCityError"]


class WrongCityError(ValidationError):
    """The request is for another city than the one this service serves (a misrouted request)."""

    code = "wrong_city"
    http_status = 421
    message_ja = "別の市区町村あての要求です。"
    message_en = "The request is for another city."


class KindNotOfferedError(NotFoundError):
    """No issuer of this city holds the requested certificate kind."""

    code = "kind_not_offered"
    message_ja = "この市区町村ではこの証明書をコンビニ交付で発行していません。"
    message_en = "This city does not issue this certificate at kiosks."
