class PreferenceError(Exception):
    """A request the preference queue cannot carry out; the message is shown to the person as is."""

    status_code = 400


class PreferenceForbidden(PreferenceError):
    """The person may see the project but lacks the role for this (403)."""

    status_code = 403


class PreferenceConflict(PreferenceError):
    """The comparison is not in a state that allows this, e.g. it has all its labels (409)."""

    status_code = 409
