"""Roles are Django groups; each carries the permissions its people need."""

from django.contrib.auth.models import Group, Permission

WRITER = "writer"
ANNOTATOR = "annotator"
ADMIN = "admin"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    WRITER: [
        "writing.add_document",
        "writing.change_document",
        "writing.view_document",
        "writing.add_iteration",
        "writing.add_decision",
    ],
    ANNOTATOR: [],
    ADMIN: [
        "writing.add_document",
        "writing.change_document",
        "writing.view_document",
        "writing.add_iteration",
        "writing.add_decision",
        "training.add_modelversion",
        "training.change_modelversion",
        "training.view_modelversion",
        "accounts.add_project",
        "accounts.change_project",
        "accounts.view_project",
    ],
}


def roles_ensure() -> dict[str, Group]:
    """Create the role groups and give them their permissions (idempotent)."""
    groups = {}
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for name in perm_names:
            app_label, codename = name.split(".")
            perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(perms)
        groups[role] = group
    return groups
