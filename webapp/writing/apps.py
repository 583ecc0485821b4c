from django.apps import AppConfig


class WritingConfig(AppConfig):
    name = "webapp.writing"
    label = "writing"

    def ready(self):
        from webapp.registry.datasets import dataset_builder_register
        from webapp.registry.feedback import DecisionReaders, decision_readers_register
        from webapp.writing import selectors
        from webapp.writing.datasets import writing_rows

        dataset_builder_register("writing", "Writing decisions (accepted and rejected edits)", writing_rows)
        decision_readers_register(
            "writing", DecisionReaders(selectors.project_decision_count, selectors.acceptance_by_version_and_day)
        )
