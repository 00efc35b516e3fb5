"""Domain exceptions. The API maps them to HTTP answers in one place (ecrm.api)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of everything the domain raises on purpose."""


class InvalidInput(DomainError):
    """Input the request models could not catch (body encoding, content type, size)."""

    def __init__(self, field: str, message: str, status: int = 400, also: tuple[str, ...] = ()) -> None:
        """`also`: other fields the same message is about (two filters where one is allowed)."""
        super().__init__(f"{', '.join((field, *also))}: {message}")
        self.field = field
        self.message = message
        self.status = status
        self.also = also


class NotFound(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Conflict(DomainError):
    """Optimistic-lock failure: somebody else changed the item first."""


class Forbidden(DomainError):
    """The caller's roles do not allow the operation."""


class InvalidToken(DomainError):
    """A signed link that was tampered with, expired or superseded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AlreadyExists(DomainError):
    """A conditional create lost to another writer."""


class Unavailable(DomainError):
    """A dependency is throttling or busy (its retries are spent): nothing was changed, or the
    retry finds out what was. Queue consumers let the message come again; the API answers 503."""


class PublishFailed(DomainError):
    """EventBridge kept rejecting entries after retries."""
