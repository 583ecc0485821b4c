from webapp.core.errors import DomainConflict, DomainError, DomainForbidden


class PreferenceError(DomainError):
    """A request the preference queue cannot carry out; the message is shown to the person as is."""


class PreferenceForbidden(PreferenceError, DomainForbidden):
    """The person may see the project but lacks the role for this (403)."""


class PreferenceConflict(PreferenceError, DomainConflict):
    """The comparison is not in a state that allows this, e.g. it has all its labels (409)."""


class NotReserved(PreferenceConflict):
    """A new label on a comparison the queue has not reserved to the person right now (409). One
    message for every such comparison, gold or not, full or not, missing or in another project,
    so that the answer tells nothing about the comparison."""

    MESSAGE = (
        "This comparison is not reserved to you right now (the queue did not give it to you, or your "
        "reservation expired); label the comparison the queue gives you."
    )

    def __init__(self, message: str = MESSAGE):
        super().__init__(message)
