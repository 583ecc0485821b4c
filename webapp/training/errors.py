from webapp.core.errors import DomainError


class TrainingRequestError(DomainError, ValueError):
    """A request the training screens or API cannot carry out; the message says why, for the admin.
    (A ValueError too: the settings parsers raise it where a bad value is one.)"""
