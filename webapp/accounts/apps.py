from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(sender, using="default", **kwargs):
    # Permissions of later apps may not exist yet when this app's post_migrate fires:
    # create them all first (idempotent), then the role groups.
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    from webapp.accounts.roles import roles_ensure

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    roles_ensure()


class AccountsConfig(AppConfig):
    name = "webapp.accounts"
    label = "accounts"

    def ready(self):
        post_migrate.connect(_ensure_roles, sender=self, dispatch_uid="redline_roles")
        from webapp.accounts import security  # noqa: F401  (the sign-in lockout's signal receivers)
