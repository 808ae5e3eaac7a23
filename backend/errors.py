"""Errors the services raise: each has a stable code that the UI and the API map to words."""

from __future__ import annotations


class ChatError(Exception):
    """Base of every refusal a service can give; ``code`` is stable, ``message`` is English."""

    code = "error"

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class InvalidInput(ChatError):
    """The request is malformed or breaks a rule about its content."""

    code = "invalid_input"


class TooLarge(InvalidInput):
    """The content is larger than allowed."""

    code = "too_large"


class Unauthenticated(ChatError):
    """No valid session: missing, unknown, expired or revoked token, or wrong credentials."""

    code = "unauthenticated"


class NotFound(ChatError):
    """Unknown id, or one the caller may not know exists (non-members get this too)."""

    code = "not_found"


class Forbidden(ChatError):
    """The caller may see the thing but this action on it is not theirs (a member who is not
    an admin, someone else's message, or too late to change it)."""

    code = "forbidden"


class Conflict(ChatError):
    """The request clashes with existing data (e.g. a taken username)."""

    code = "conflict"


class GroupFull(Conflict):
    """A group already has the most members it may have."""

    code = "group_full"


class RateLimited(ChatError):
    """Too many attempts; ``retry_after`` seconds until the next one is allowed."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class QuotaExceeded(TooLarge):
    """The upload would take the user past their storage quota."""

    code = "quota_exceeded"


class UnsupportedMedia(InvalidInput):
    """The file is not what it claims to be, or not a kind this product accepts."""

    code = "unsupported_media"
