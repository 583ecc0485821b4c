from webapp.core.errors import DomainConflict, DomainError


class WritingError(DomainError):
    """A request the writing loop cannot carry out; the message is shown to the person as is."""


class LoopConflict(WritingError, DomainConflict):
    """The document or proposal is not in a state that allows this (409)."""


class DecisionConflict(LoopConflict):
    """Someone else decided this edit after the page was loaded."""

    def __init__(self, message: str, current):
        super().__init__(message)
        self.current = current
