from django.apps import AppConfig


class WritingConfig(AppConfig):
    name = "webapp.writing"
    label = "writing"
