"""Domain errors. Each carries the HTTP status and problem type the web layer renders."""


class DomainError(Exception):
    """Base of every error the business rules raise on purpose."""

    status: int = 400
    type: str = "invalid-request"
    title: str = "Invalid request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationError(DomainError):
    """Input that names something the profile does not know, or breaks a business rule."""

    status = 422
    type = "validation-error"
    title = "Invalid input"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class NotFoundError(DomainError):
    status = 404
    type = "not-found"
    title = "Not found"


class IllegalTransitionError(DomainError):
    """An action that the lifecycle does not allow in the request's current state."""

    status = 409
    type = "illegal-transition"
    title = "Action not allowed in this state"


class ConflictError(DomainError):
    status = 409
    type = "conflict"
    title = "Conflict"


class ProfileError(DomainError):
    """A profile file is wrong; the message names the file and line."""

    status = 500
    type = "profile-error"
    title = "Profile error"
