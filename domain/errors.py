"""Domain errors: specific, so the interfaces can map each to one status code."""


class DomainError(Exception):
    """Base of every rule a command can break."""

    code = "domain_error"

    def __init__(self, message: str, *, details: list[dict[str, object]] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFoundError(DomainError):
    code = "not_found"


class WorkspaceNotFoundError(NotFoundError):
    code = "workspace_not_found"


class ApiKeyNotFoundError(NotFoundError):
    code = "api_key_not_found"


class PageNotFoundError(NotFoundError):
    code = "page_not_found"


class IncidentNotFoundError(NotFoundError):
    code = "incident_not_found"


class ValidationError(DomainError):
    code = "validation_error"


class AlreadyExistsError(DomainError):
    code = "already_exists"


class VersionMismatchError(DomainError):
    """The caller's expected version (If-Match) is not the current one."""

    code = "precondition_failed"
