"""Errors of the recorder: footage, media ledger, retention and viewing; each with a unique code and ja/en text."""

from __future__ import annotations

from yakuba.errors import (
    AuthorizationError,
    NotFoundError,
    StoreError,
    ValidationError,
    VerificationError,
    YakubaError,
)

__all__ = [
    "CardPlaceError",
    "CorruptSegmentError",
    "DiskFullError",
    "ExportError",
    "HoldReleaseError",
    "PackageInvalidError",
    "ProvisionDecisionError",
    "ProvisionStateError",
    "RetentionLockedError",
    "SweepRefusedError",
    "UnknownRecordError",
    "ViewGrantError",
    "ViewRefusedError",
]


class CorruptSegmentError(ValidationError):
    """A card file does not open or decode as a video segment; it is kept aside, never dropped."""

    code = "recorder_segment_corrupt"
    message_ja = "映像ファイルが破損しているため取り込めませんでした（別に保管しました）。"
    message_en = "The video file is corrupt and was not ingested (it was kept aside)."


class DiskFullError(StoreError):
    """The footage store has too little free space; ingest stops rather than erase anything to make room."""

    code = "recorder_disk_full"
    http_status = 507
    message_ja = "映像保存領域の空き容量が不足しているため取り込みを停止しました。"
    message_en = "The footage store is full; ingest stopped. Nothing was erased to make room."


class SweepRefusedError(YakubaError):
    """The sweep would erase more than the safe share of the store at once; nothing was erased."""

    code = "recorder_sweep_refused"
    http_status = 409
    message_ja = "一度に消去する映像が多すぎるため、消去を中止しました。設定と時計を確認してください。"
    message_en = "The sweep would erase too much of the store at once and was refused. Check the policy and clock."


class RetentionLockedError(ValidationError):
    """A retain-until date may only be extended, never shortened (compliance mode)."""

    code = "recorder_retention_locked"
    http_status = 409
    message_ja = "保存期限は延長のみ可能で、短縮できません。"
    message_en = "A retention date can only be extended, never shortened."


class HoldReleaseError(ValidationError):
    """A legal hold can be released only explicitly, by a section chief, with a reason."""

    code = "recorder_hold_release_refused"
    http_status = 409
    message_ja = "保全の解除は課長が理由を付けて行う必要があります。"
    message_en = "A hold can be released only by the section chief, with a reason."


class CardPlaceError(ValidationError):
    """A media-ledger event does not fit the card's current state (a destroyed card inserted, a missing co-sign)."""

    code = "recorder_card_event_refused"
    http_status = 409
    message_ja = "記録媒体の状態と矛盾する操作です。"
    message_en = "This operation does not fit the card's recorded state."


class ViewRefusedError(AuthorizationError):
    """Viewing footage needs a permitted role, an incident or request covering it, and a stated purpose."""

    code = "recorder_view_refused"
    message_ja = "この映像を閲覧する権限がありません。"
    message_en = "You are not allowed to view this footage."


class ViewGrantError(AuthorizationError):
    """The view grant is unknown, expired, or for another segment."""

    code = "recorder_view_grant_invalid"
    http_status = 401
    message_ja = "閲覧許可が無効か期限切れです。もう一度閲覧手続きをしてください。"
    message_en = "The view grant is invalid or expired. Please request viewing again."


class UnknownRecordError(NotFoundError):
    """No vehicle, staff member, card, segment or hold with this id."""

    code = "recorder_not_found"
    message_ja = "該当する記録が見つかりません。"
    message_en = "No such record."


class ProvisionDecisionError(AuthorizationError):
    """Only the section chief decides an external provision, with written reasons (council rule)."""

    code = "recorder_provision_decider_refused"
    message_ja = "外部提供の可否は課長が理由を付けて決定します。"
    message_en = "Only the section chief decides an external provision, with written reasons."


class ProvisionStateError(ValidationError):
    """The provision request is not in a state that allows this step (refused, not reviewed, already closed)."""

    code = "recorder_provision_state"
    http_status = 409
    message_ja = "この提供依頼の現在の状態では、この操作はできません。"
    message_en = "This step does not fit the provision request's current state."


class ExportError(StoreError):
    """The requested window could not be exported exactly (missing footage, a decode or encode failure)."""

    code = "recorder_export_failed"
    message_ja = "指定された時間帯の映像を書き出せませんでした。"
    message_en = "The footage of the requested window could not be exported."


class PackageInvalidError(VerificationError):
    """A provision package's signature, certificate chain or file hashes do not verify."""

    code = "recorder_package_invalid"
    message_ja = "提供パッケージの検証に失敗しました（改ざんまたは破損の可能性があります）。"
    message_en = "The provision package does not verify (it may have been altered or damaged)."
