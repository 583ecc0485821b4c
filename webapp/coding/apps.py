from django.apps import AppConfig


class CodingConfig(AppConfig):
    name = "webapp.coding"
    label = "coding"

    def ready(self):
        from webapp.coding.datasets import coding_rows
        from webapp.registry.datasets import dataset_builder_register

        dataset_builder_register("coding", "Coding decisions (accepted and passing vs failing candidates)", coding_rows)
