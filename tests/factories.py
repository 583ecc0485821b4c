"""factory_boy factories for the rows tests need. Passwords are all 'pw-secret-1'."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from inference.diffing import diff_words
from webapp.accounts.models import Project
from webapp.registry.models import ModelVersion
from webapp.writing.models import Document, EditProposal, Iteration

PASSWORD = "pw-secret-1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        role = extracted or "writer"
        self.is_staff = role == "admin"
        self.save()
        self.groups.add(Group.objects.get(name=role))


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project {n}")


class ModelVersionFactory(factory.django.DjangoModelFactory):
    """training_run=RUN: that run made it; snapshot=S without a run: a succeeded run from its
    parent on S made it (the lineage is the run's, webapp.training.models.TrainingRun.version)."""

    class Meta:
        model = ModelVersion
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"version-{n}")
    base_model = "/nonexistent/model"

    @factory.post_generation
    def training_run(self, create, extracted, **kwargs):
        from webapp.training.models import TrainingRun

        snapshot = self._snapshot_param
        if extracted is None and snapshot is not None:
            extracted = TrainingRun.objects.create(
                method=TrainingRun.Method.SFT,
                status=TrainingRun.Status.SUCCEEDED,
                snapshot=snapshot,
                base_version=self.parent or self,
            )
        if extracted is not None:
            TrainingRun.objects.filter(pk=extracted.pk).update(version=self)
            extracted.version = self

    @classmethod
    def _create(cls, model_class, *args, snapshot=None, **kwargs):
        version = super()._create(model_class, *args, **kwargs)
        version._snapshot_param = snapshot
        return version


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Document {n}")
    original_text = "The cat sat on the the mat. It were happy."
    current_text = factory.SelfAttribute("original_text")


def iteration_in_review(document: Document, model_output: str, *, model_version=None, user=None) -> Iteration:
    """A round in review whose proposals are the real word diff of the document's text."""
    last = document.iterations.order_by("-number").first()
    iteration = Iteration.objects.create(
        document=document,
        number=(last.number + 1) if last else 1,
        depth=(last.depth + 1) if last else 1,
        status=Iteration.Status.REVIEW,
        instruction="fix_grammar",
        instruction_text="Fix grammatical errors in this sentence",
        text_before=document.current_text,
        model_output=model_output,
        model_version=model_version or ModelVersionFactory(),
        created_by=user or document.owner,
    )
    EditProposal.objects.bulk_create(
        EditProposal(
            iteration=iteration,
            index=i,
            action=e.action,
            start_char=e.start,
            end_char=e.end,
            before=e.before,
            after=e.after,
            intent="fluency",
            score=0.5,
        )
        for i, e in enumerate(diff_words(document.current_text, model_output))
    )
    return iteration
