from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from webapp.accounts.roles import ADMIN, ROLE_PERMISSIONS


@transaction.atomic
def user_create(*, username: str, password: str, role: str, email: str = ""):
    """A person with one role. Admins are also staff, so they reach the Django admin."""
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"unknown role {role!r}")
    user = get_user_model().objects.create_user(
        username=username, password=password, email=email, is_staff=(role == ADMIN)
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def user_has_role(user, role: str) -> bool:
    return user.is_authenticated and user.groups.filter(name=role).exists()
