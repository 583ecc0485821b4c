from webapp.core.errors import DomainConflict, DomainError, DomainForbidden


class PreferenceError(DomainError):
    """A request the preference queue cannot carry out; the message is shown to the person as is."""


class PreferenceForbidden(PreferenceError, DomainForbidden):
    """The person may see the project but lacks the role for this (403)."""


class PreferenceConflict(PreferenceError, DomainConflict):
    """The comparison is not in a state that allows this, e.g. it has all its labels (409)."""
