"""Shared set-up of the benchmarks: a database of their own and documents with a round of N
edits in review. Not a test; the rows are made directly, since no service makes proposals
without a model."""

import math
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/redline_bench"
BENCH_USER = "bench-writer"
BENCH_PASSWORD = "bench-password-1"


def django_setup(database_url: str | None = None) -> str:
    """Point Django at the benchmark database (created and migrated if needed); returns its URL."""
    database_url = database_url or os.environ.get("REDLINE_BENCH_DATABASE_URL", BENCH_DATABASE_URL)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    sys.path.insert(0, str(ROOT))
    database_create(database_url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return database_url


def database_create(database_url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(database_url)
    params = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
    params = {k: v for k, v in params.items() if v}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


def bench_writer():
    """The benchmark's writer, with a known password; its earlier documents are deleted."""
    from django.contrib.auth import get_user_model

    from webapp.accounts.roles import WRITER
    from webapp.accounts.services import user_create

    user = get_user_model().objects.filter(username=BENCH_USER).first()
    if user is None:
        user = user_create(username=BENCH_USER, password=BENCH_PASSWORD, role=WRITER)
    user.documents.all().delete()
    return user


def document_in_review(owner, n_edits: int, title: str):
    """A document of n_edits sentences and a round in review proposing one edit in each
    ("a error" -> "an error"). Returns (document, iteration)."""
    from inference.diffing import diff_words
    from webapp.training.models import ModelVersion
    from webapp.writing.models import EditProposal, Iteration
    from webapp.writing.services import document_create

    sentences = [f"Sentence {i} has a error in it." for i in range(1, n_edits + 1)]
    text = " ".join(sentences)
    revised = text.replace(" a error ", " an error ")
    document = document_create(owner=owner, text=text, title=title)
    version, _ = ModelVersion.objects.get_or_create(
        name="bench (hand-made proposals)", defaults={"base_model": "bench/none"}
    )
    iteration = Iteration.objects.create(
        document=document,
        number=1,
        depth=1,
        status=Iteration.Status.REVIEW,
        instruction="fix_grammar",
        instruction_text="Fix grammatical errors in this sentence",
        text_before=text,
        model_output=revised,
        model_version=version,
        created_by=owner,
    )
    edits, offset = [], 0
    for sentence in sentences:  # sentence by sentence, as the model's revisions are diffed
        edits += diff_words(sentence, sentence.replace(" a error ", " an error "), offset=offset)
        offset += len(sentence) + 1
    assert len(edits) == n_edits, (len(edits), n_edits)
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
            score=0.9,
        )
        for i, e in enumerate(edits)
    )
    return document, iteration


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0..100), nearest-rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)
