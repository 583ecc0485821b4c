from webapp.core.errors import DomainConflict, DomainError


class CodingError(DomainError):
    """A request the coding loop cannot carry out; the message is shown to the person as is."""


class CodingConflict(CodingError, DomainConflict):
    """The problem or iteration is not in a state that allows this (409)."""
