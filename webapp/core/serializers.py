"""API shapes every app answers with: errors, the progress of a job, a verdict."""

from rest_framework import serializers

from webapp.core.models import Job

VERDICTS = ("accept", "reject")  # what a person can say of a proposal, a candidate or a test


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class JobProgressSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="queued, running, succeeded or failed")
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = Job
        fields = ["id", "status", "done", "total", "percent", "message", "error"]


class VerdictInput(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=VERDICTS)
