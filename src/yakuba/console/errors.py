"""Errors of the city operations console: failed logins, missing roles, forged forms, expired sessions."""

from __future__ import annotations

from yakuba.errors import AuthenticationError, AuthorizationError, ValidationError

__all__ = [
    "CsrfError",
    "LoginFailedError",
    "RoleRequiredError",
    "SessionRequiredError",
    "StaffExistsError",
    "StaffNotFoundError",
]


class LoginFailedError(AuthenticationError):
    """The login name or password is wrong, or the account is locked after too many failures (not said which)."""

    code = "console_login_failed"
    message_ja = "ログイン名またはパスワードが正しくありません。"
    message_en = "The login name or password is not correct."


class SessionRequiredError(AuthenticationError):
    """The page needs a staff session: none, expired, or logged out."""

    code = "console_session_required"
    message_ja = "ログインしてください。"
    message_en = "Please log in."


class RoleRequiredError(AuthorizationError):
    """The staff member's role does not allow this page or action."""

    code = "console_role_required"
    message_ja = "この操作を行う権限がありません。"
    message_en = "Your role does not allow this."


class CsrfError(AuthorizationError):
    """A form was posted without the token of the page it came from (a forged cross-site request)."""

    code = "console_csrf_failed"
    message_ja = "フォームの有効期限が切れたか、不正な送信です。ページを開き直してください。"
    message_en = "The form has expired or was not sent from this site. Please reload the page."


class StaffExistsError(ValidationError):
    """A staff account with this login name exists already."""

    code = "console_staff_exists"
    message_ja = "このログイン名の職員はすでに登録されています。"
    message_en = "A staff account with this login name exists already."


class StaffNotFoundError(ValidationError):
    """No staff account has this login name (staff management; the login page never says so)."""

    code = "console_staff_not_found"
    message_ja = "このログイン名の職員は登録されていません。"
    message_en = "No staff account has this login name."
