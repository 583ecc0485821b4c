"""Roles are Django groups; each carries the permissions its people need."""

from django.contrib.auth.models import Group, Permission

WRITER = "writer"
DEVELOPER = "developer"
ANNOTATOR = "annotator"
ADMIN = "admin"

WRITING = [
    "writing.add_document",
    "writing.change_document",
    "writing.view_document",
    "writing.add_iteration",
    "writing.add_decision",
]
CODING = [
    "coding.add_problem",
    "coding.change_problem",
    "coding.view_problem",
    "coding.add_codingiteration",
    "coding.add_candidatedecision",
    "coding.add_codetestdecision",
    "coding.add_codetest",
]

# Labelling: pull from the queue, label, change, undo, skip; see one's own labels.
ANNOTATING = [
    "preferences.view_comparison",
    "preferences.view_preferencelabel",
    "preferences.add_preferencelabel",
    "preferences.change_preferencelabel",
    "preferences.delete_preferencelabel",
    "preferences.add_skip",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    WRITER: WRITING,
    DEVELOPER: CODING,
    ANNOTATOR: ANNOTATING,
    ADMIN: [
        *WRITING,
        *CODING,
        *ANNOTATING,
        "preferences.add_comparison",
        "preferences.change_comparison",
        "preferences.view_all_labels",
        "preferences.view_queuesettings",
        "preferences.change_queuesettings",
        "registry.add_modelversion",
        "registry.change_modelversion",
        "registry.view_modelversion",
        "training.add_trainingrun",
        "training.change_trainingrun",
        "training.view_trainingrun",
        "training.add_datasetsnapshot",
        "training.view_datasetsnapshot",
        "training.change_retrainpolicy",
        "training.view_retrainpolicy",
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
