"""Errors of the registry: unknown cities and people, and life events the registry's state does not allow."""

from __future__ import annotations

from yakuba.errors import NotFoundError, ValidationError

__all__ = ["EventRefusedError", "PersonNotFoundError", "UnknownCityError"]


class UnknownCityError(NotFoundError):
    """The city code is not one of the deployment's cities, or has no registry data for the generator."""

    code = "unknown_city"
    message_ja = "指定された市区町村コードは登録されていません。"
    message_en = "The city code is not known to this deployment."


class PersonNotFoundError(NotFoundError):
    """No person with this id is on the city's registry."""

    code = "person_not_found"
    message_ja = "指定された方は住民記録にありません。"
    message_en = "No such person on the registry."


class EventRefusedError(ValidationError):
    """The life event is impossible in the person's current state (e.g. a death for a deceased person)."""

    code = "event_refused"
    http_status = 409
    message_ja = "現在の記録の状態ではこの届出を処理できません。"
    message_en = "This event cannot be recorded in the person's current state."
