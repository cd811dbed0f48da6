"""The executor's error tree. Verdicts are data; these are for the rest."""

from __future__ import annotations


class ExecutorError(Exception):
    """Base of every error the executor raises."""


class InvalidJob(ExecutorError, ValueError):
    """A job that cannot be run as given. `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        from .text import writable  # both may quote input: keep them writable by every front end

        field, message = writable(field, 1024), writable(message, 4096)
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SandboxUnavailable(ExecutorError):
    """The sandbox cannot be used on this machine (firejail missing, no user...)."""


class SlotCrashed(ExecutorError):
    """A slot's zygote died or stopped answering: an infrastructure fault."""


class PoolClosed(ExecutorError):
    """Work was submitted to a pool that has been closed."""
