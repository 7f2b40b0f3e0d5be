"""Domain errors: specific, so the interfaces can map each to one status code."""


class DomainError(Exception):
    """Base of every rule a command can break."""

    code = "domain_error"

    def __init__(self, message: str, *, details: list[dict[str, object]] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.extra: dict[str, object] = {}  # further fields of the error body


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


class ConflictError(DomainError):
    """The resource exists in a state that contradicts the request."""

    code = "conflict"


class GoneError(DomainError):
    """The resource existed but has expired."""

    code = "gone"


class ComponentNotFoundError(NotFoundError):
    code = "component_not_found"


class MaintenanceNotFoundError(NotFoundError):
    code = "maintenance_not_found"


def check_version(what: str, current: int, expected: int | None) -> None:
    """An If-Match check: the caller's expected version must be the current one."""
    if expected is not None and expected != current:
        raise VersionMismatchError(
            f"{what} is at version {current}, not {expected}",
            details=[{"field": "If-Match", "message": f"current version is {current}"}])


class MonitorNotFoundError(NotFoundError):
    code = "monitor_not_found"


class SubscriberNotFoundError(NotFoundError):
    code = "subscriber_not_found"


class ExportNotFoundError(NotFoundError):
    code = "export_not_found"


class ExportNotReadyError(ConflictError):
    code = "export_not_ready"


class ExportExpiredError(GoneError):
    code = "export_expired"


class SessionNotFoundError(NotFoundError):
    code = "session_not_found"


class QuotaExceededError(DomainError):
    """The workspace's monthly event limit is already used up."""

    code = "plan_limit_reached"

    def __init__(self, message: str, *, limit: int, used: int, resets_at: str):
        super().__init__(message)
        self.limit, self.used, self.resets_at = limit, used, resets_at
        self.extra = {"limit": limit, "used": used, "resets_at": resets_at}


class NotReadyError(DomainError):
    """What the answer needs is not read yet (a read model behind its log): retry shortly."""

    code = "not_ready"


class AlertNotFoundError(NotFoundError):
    code = "alert_not_found"


class RuleLimitError(ConflictError):
    """The workspace already has as many alert rules as it may."""

    code = "alert_rule_limit_reached"

    def __init__(self, message: str, *, limit: int):
        super().__init__(message)
        self.extra = {"limit": limit}


class DeployNotFoundError(NotFoundError):
    code = "deploy_not_found"


class OwnedByConfigError(ConflictError):
    """An object a deploy created: beacon.yml owns it until the config releases it."""

    code = "owned_by_config"


class EventNotFoundError(NotFoundError):
    pass
