"""The one base of the errors a domain service raises for a person to read.

A service that cannot do what it was asked raises a subclass with a message written for the
person (shown as is) and the HTTP status it means: AppAPIView answers it as {"detail": message}
with that status, and the HTML views show the message beside the form.
"""


class DomainError(Exception):
    """A request that cannot be carried out as asked (400)."""

    status_code = 400


class DomainForbidden(DomainError):
    """The person may see the object but lacks the role for this (403)."""

    status_code = 403


class DomainConflict(DomainError):
    """The object is not in a state that allows this, e.g. someone else changed it first (409)."""

    status_code = 409
