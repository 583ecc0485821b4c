class CodingError(Exception):
    """A request the coding loop cannot carry out; the message is shown to the person as is."""

    status_code = 400


class CodingConflict(CodingError):
    """The problem or iteration is not in a state that allows this (409)."""

    status_code = 409
