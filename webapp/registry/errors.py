from webapp.core.errors import DomainError


class RegistryError(DomainError):
    """A change of the active version that cannot be made; the message says why, for the admin."""
