from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo install (`manage.py seed_demo`): the one app that may use every other."""

    name = "webapp.demo"
    label = "demo"
