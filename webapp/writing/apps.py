from django.apps import AppConfig


class WritingConfig(AppConfig):
    name = "webapp.writing"
    label = "writing"

    def ready(self):
        from webapp.registry.datasets import dataset_builder_register
        from webapp.writing.datasets import writing_rows

        dataset_builder_register("writing", "Writing decisions (accepted and rejected edits)", writing_rows)
