from django.apps import AppConfig


class CodingConfig(AppConfig):
    name = "webapp.coding"
    label = "coding"

    def ready(self):
        from webapp.coding.datasets import coding_rows
        from webapp.coding.selectors import candidate_versions
        from webapp.registry.datasets import dataset_builder_register
        from webapp.registry.feedback import output_versions_register

        dataset_builder_register("coding", "Coding decisions (accepted and passing vs failing candidates)", coding_rows)
        output_versions_register("coding", candidate_versions)
