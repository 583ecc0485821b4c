from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "webapp.training"
    label = "training"

    def ready(self):
        from webapp.registry.feedback import decisions_closed

        decisions_closed.connect(_check_retrain_policy, dispatch_uid="training.check_retrain_policy")


def _check_retrain_policy(sender, project_id: int, **kwargs) -> None:
    from webapp.training.tasks import check_retrain_policy

    check_retrain_policy.delay(project_id)
