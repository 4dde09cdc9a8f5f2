"""The messages of the issuance chain, hop by hop: one schema per body, shared by every role that sends or relays it.

The flow (architecture.md, "Request flow"):

1. ``POST /v1/challenges``   kiosk -> HQ -> center. The center answers a one-time challenge for that kiosk.
2. ``POST /v1/issuances``    kiosk -> HQ -> center -> forwarder -> issuer. The body carries the resident's
   ``IssuanceRequest`` (what they chose, and the kiosk's one-time X25519 transaction key), the challenge, the
   card's certificate and its signature over ``card_auth_digest(challenge, request_digest(request), kiosk)``.
   Relays add only their tags (chain, store); they never change ``request``, so the issuer can check the card
   signature again itself. The answer is a sealed envelope that only that kiosk transaction can open.
3. ``POST /v1/completions``  kiosk -> HQ only. The outcome (printed / voided / abandoned, copies) closes the
   HQ's billing line; the HQ's outbox sends it on in ``POST /v1/completion-batches`` HQ -> center -> forwarder
   -> issuer, which close the center's settlement line and the issuer's log entry.

Every hop sends ``Idempotency-Key: <transaction_id>`` (``yakuba.wire.IDEMPOTENCY_KEY_HEADER``): a role that
sees a transaction id again answers what it answered the first time and never issues twice.

4. ``POST /v1/history``     kiosk -> HQ -> center -> forwarder -> every issuer of the city. A resident's own
   issuance history: a ``HistoryRequest`` signed by the card exactly as an issuance is, checked by the center
   (challenge, card, CRL) and again by each issuer, which answers its part SEALED to the kiosk's transaction
   key under ``SealingBinding(..., purpose=HISTORY_PURPOSE)``; the forwarder returns one envelope per issuer.

Nothing personal is in any of these messages outside the sealed envelope: the request names a city, a kind,
options and member *positions*, never a name; the card certificate carries only a serial.
"""

from yakuba.wire.messages._challenges import (
    MAX_CHALLENGE_BATCH,
    ChallengeAnswer,
    ChallengeAsk,
    ChallengeBatchAnswer,
    ChallengeBatchAsk,
)
from yakuba.wire.messages._completion import (
    BATCH_ID_PREFIX,
    MAX_COMPLETION_BATCH,
    CompletionAnswer,
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionReport,
    CompletionResult,
    Outcome,
    TaggedCompletion,
)
from yakuba.wire.messages._completion import BatchId as BatchId
from yakuba.wire.messages._fields import B64 as B64
from yakuba.wire.messages._fields import MAX_CERTIFICATE_BYTES as MAX_CERTIFICATE_BYTES
from yakuba.wire.messages._fields import MAX_COPIES
from yakuba.wire.messages._fields import MAX_ENVELOPE_BYTES as MAX_ENVELOPE_BYTES
from yakuba.wire.messages._fields import MAX_OPTION_ITEMS as MAX_OPTION_ITEMS
from yakuba.wire.messages._fields import CityCode as CityCode
from yakuba.wire.messages._fields import InstanceId as InstanceId
from yakuba.wire.messages._fields import Kind as Kind
from yakuba.wire.messages._fields import TransactionId as TransactionId
from yakuba.wire.messages._history import (
    HISTORY_PURPOSE,
    MAX_HISTORY_ENVELOPES,
    MAX_HISTORY_RECORDS,
    HistoryAnswer,
    HistoryDocument,
    HistoryOutcome,
    HistoryRecord,
    HistoryRequest,
    HistorySubmission,
    TaggedHistorySubmission,
)
from yakuba.wire.messages._issuance import (
    Basis,
    IssuanceAnswer,
    IssuanceRequest,
    IssuanceSubmission,
    RelayedIssuanceAnswer,
    RoutedSubmission,
    TaggedSubmission,
)
from yakuba.wire.messages._paths import (
    PATH_CHALLENGE_BATCHES,
    PATH_CHALLENGES,
    PATH_COMPLETION_BATCHES,
    PATH_COMPLETIONS,
    PATH_HISTORY,
    PATH_ISSUANCES,
)

__all__ = [
    "BATCH_ID_PREFIX",
    "HISTORY_PURPOSE",
    "MAX_CHALLENGE_BATCH",
    "MAX_COMPLETION_BATCH",
    "MAX_COPIES",
    "MAX_HISTORY_ENVELOPES",
    "MAX_HISTORY_RECORDS",
    "PATH_CHALLENGES",
    "PATH_CHALLENGE_BATCHES",
    "PATH_COMPLETIONS",
    "PATH_COMPLETION_BATCHES",
    "PATH_HISTORY",
    "PATH_ISSUANCES",
    "Basis",
    "ChallengeAnswer",
    "ChallengeAsk",
    "ChallengeBatchAnswer",
    "ChallengeBatchAsk",
    "CompletionAnswer",
    "CompletionBatch",
    "CompletionBatchAnswer",
    "CompletionReport",
    "CompletionResult",
    "HistoryAnswer",
    "HistoryDocument",
    "HistoryOutcome",
    "HistoryRecord",
    "HistoryRequest",
    "HistorySubmission",
    "IssuanceAnswer",
    "IssuanceRequest",
    "IssuanceSubmission",
    "Outcome",
    "RelayedIssuanceAnswer",
    "RoutedSubmission",
    "TaggedCompletion",
    "TaggedHistorySubmission",
    "TaggedSubmission",
]
