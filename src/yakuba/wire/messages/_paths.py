"""The URL paths of the issuance chain's routes, one per message exchange."""

__all__ = [
    "PATH_CHALLENGES",
    "PATH_CHALLENGE_BATCHES",
    "PATH_COMPLETIONS",
    "PATH_COMPLETION_BATCHES",
    "PATH_HISTORY",
    "PATH_ISSUANCES",
]

PATH_CHALLENGES = "/v1/challenges"
PATH_CHALLENGE_BATCHES = "/v1/challenge-batches"
PATH_ISSUANCES = "/v1/issuances"
PATH_COMPLETIONS = "/v1/completions"
PATH_COMPLETION_BATCHES = "/v1/completion-batches"
PATH_HISTORY = "/v1/history"
