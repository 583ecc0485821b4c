"""Who may see a row that has an owner and, perhaps, a project: its owner and the project's
members. Anyone else gets a 404 (never a 403: they must not learn the row exists)."""

from typing import Callable

from django.db.models import Q, QuerySet
from django.http import Http404


def shared_with(user, queryset: QuerySet) -> QuerySet:
    """The rows of `queryset` (with owner and project fields) that `user` may see."""
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(Q(owner=user) | Q(project__in=user.projects.values("pk")))


def can_see(user, row) -> bool:
    """Whether `user` may see `row` (a Document, a Problem: anything with owner and project)."""
    if row.owner_id == user.pk:
        return True
    return row.project_id is not None and user.projects.filter(pk=row.project_id).exists()


def get_visible(queryset: QuerySet, user, pk, owned_row_of: Callable):
    """The row by primary key, or 404 if it is missing or `owned_row_of(row)` is not the user's.
    A plain primary-key lookup and a Python check: the hot paths' way."""
    row = queryset.filter(pk=pk).first() if user.is_authenticated else None
    if row is None or not can_see(user, owned_row_of(row)):
        raise Http404("No such object.")
    return row
