from django.apps import AppConfig


class PreferencesConfig(AppConfig):
    name = "webapp.preferences"
    label = "preferences"

    def ready(self):
        from webapp.preferences.datasets import preference_rows
        from webapp.registry.datasets import dataset_builder_register

        dataset_builder_register(
            "preferences", "Preference labels (majority-preferred vs other output)", preference_rows
        )
