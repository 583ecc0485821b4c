from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in: Django's own fields, in a model of Redline's (AUTH_USER_MODEL), so
    that a field added later is a migration, not a swap of the user model under live data.

    It keeps the tables Django's user had (auth_user and its two link tables): accounts 0001
    takes them over and 0002 moves the content type, so existing users, their passwords, roles
    and permissions carry on untouched."""

    id = models.AutoField(primary_key=True, verbose_name="ID")  # as auth_user's: other tables point at it
    groups = models.ManyToManyField(
        Group,
        verbose_name=_("groups"),
        blank=True,
        help_text=_(
            "The groups this user belongs to. A user will get all permissions granted to each of their groups."
        ),
        related_name="user_set",
        related_query_name="user",
        db_table="auth_user_groups",
    )
    user_permissions = models.ManyToManyField(
        Permission,
        verbose_name=_("user permissions"),
        blank=True,
        help_text=_("Specific permissions for this user."),
        related_name="user_set",
        related_query_name="user",
        db_table="auth_user_user_permissions",
    )

    class Meta(AbstractUser.Meta):
        db_table = "auth_user"


class Project(models.Model):
    """A group of people who share documents. A document without a project is private."""

    name = models.CharField(max_length=200, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="projects", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
