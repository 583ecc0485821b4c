import io as stdio
import json

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference.diffing import diff_words
from tests.conftest import FIXED_TEXT
from tests.factories import DocumentFactory, UserFactory, iteration_in_review
from webapp.writing import services
from webapp.writing.errors import WritingError
from webapp.writing.models import Decision, Document, EditProposal, Iteration
from webapp.writing.transfer import documents_export_jsonl, documents_import

BEFORE = "The cat sat on the the mat. It were happy."


def r3_record(**overrides) -> dict:
    record = {
        "doc_id": "paper-1",
        "revision_depth": 1,
        "before_revision": BEFORE,
        "after_revision": FIXED_TEXT,
        "edit_actions": [
            {
                "type": "D",
                "before": "the ",
                "after": None,
                "start_char_pos": 19,
                "end_char_pos": 23,
                "major_intent": "fluency",
                "accept_or_reject": "Accept",
            },
            {
                "type": "R",
                "before": "were",
                "after": "was",
                "start_char_pos": 31,
                "end_char_pos": 35,
                "major_intent": "clarity",
                "accept_or_reject": "rejected",
            },
        ],
    }
    record.update(overrides)
    return record


def jsonl(*objects) -> bytes:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects).encode()


def parsed(lines) -> list[dict]:
    return [json.loads(line) for line in lines]


# ---------------------------------------------------------------------------------------------
# Plain files


def test_txt_import_makes_one_document_titled_after_the_file(writer):
    result = documents_import(
        owner=writer, filename="uploads/Field notes.txt", data="\ufeffCafé déjà vu.\r\nSecond line.".encode()
    )
    (document,) = result.documents
    assert document.title == "Field notes"
    assert document.original_text == document.current_text == "Café déjà vu.\nSecond line."
    assert document.owner == writer and result.decisions == 0


def test_md_import_keeps_markdown_text(writer):
    result = documents_import(owner=writer, filename="draft.MD", data="# Heading\n\nSome *text* 😀.".encode())
    assert [d.title for d in result.documents] == ["draft"]
    assert Document.objects.get().current_text == "# Heading\n\nSome *text* 😀."


def test_invalid_utf8_names_the_file_and_saves_nothing(writer):
    with pytest.raises(
        WritingError, match=r"latin\.txt is not valid UTF-8 text \(line 2: byte 0xe9 at offset 8 cannot be decoded"
    ):
        documents_import(owner=writer, filename="latin.txt", data="Milk\nCaf\xe9 au lait".encode("latin-1"))
    assert not Document.objects.exists()


def test_unknown_extension_is_refused(writer):
    with pytest.raises(WritingError, match=r"report\.docx: unsupported file type"):
        documents_import(owner=writer, filename="report.docx", data=b"PK\x03\x04")


def test_empty_text_file_is_refused_with_the_file_name(writer):
    with pytest.raises(WritingError, match=r"empty\.txt: The document is empty"):
        documents_import(owner=writer, filename="empty.txt", data=b"  \n ")
    assert not Document.objects.exists()


# ---------------------------------------------------------------------------------------------
# JSON Lines and R3 records


def test_jsonl_mixes_plain_documents_and_r3_records(writer):
    data = jsonl({"title": "Plain", "text": "Just some words."}, {"text": "Untitled one.\nMore."}, r3_record())
    result = documents_import(owner=writer, filename="mixed.jsonl", data=data)
    assert [d.title for d in result.documents] == ["Plain", "Untitled one.", "paper-1"]
    assert result.decisions == 2
    assert Iteration.objects.count() == 1


def test_r3_record_with_decisions_is_an_applied_iteration(writer):
    result = documents_import(owner=writer, filename="r3.json", data=json.dumps(r3_record()).encode())
    (document,) = result.documents
    iteration = document.iterations.get()
    assert iteration.source == Iteration.Source.MODEL and iteration.status == Iteration.Status.APPLIED
    assert iteration.depth == 1 and iteration.number == 1
    assert iteration.text_before == BEFORE
    assert iteration.model_output == FIXED_TEXT
    # The first edit was accepted, the second rejected.
    assert iteration.text_after == "The cat sat on the mat. It were happy."
    document.refresh_from_db()
    assert document.original_text == BEFORE and document.current_text == iteration.text_after
    assert iteration.model_version.name == "imported" and not iteration.model_version.is_active
    proposals = list(iteration.proposals.order_by("index"))
    assert [(p.action, p.start_char, p.end_char, p.before, p.after, p.intent) for p in proposals] == [
        ("D", 19, 23, "the ", "", "fluency"),
        ("R", 31, 35, "were", "was", "clarity"),
    ]
    decisions = Decision.objects.filter(proposal__iteration=iteration).order_by("proposal__index")
    assert [(d.verdict, d.via, d.decided_by, d.is_current) for d in decisions] == [
        ("accept", "import", writer, True),
        ("reject", "import", writer, True),
    ]


def test_r3_record_without_decisions_is_open_for_review(writer):
    record = r3_record(after_revision=None)
    for action in record["edit_actions"]:
        del action["accept_or_reject"]
    result = documents_import(owner=writer, filename="r3.json", data=json.dumps([record]).encode())
    iteration = result.documents[0].iterations.get()
    assert iteration.status == Iteration.Status.REVIEW and iteration.text_after is None
    assert iteration.model_output == FIXED_TEXT  # the edits applied, since after_revision is missing
    assert result.documents[0].current_text == BEFORE
    assert not Decision.objects.exists()
    # The round can be finished like any other.
    services.proposals_decide_all(iteration=iteration, user=writer, verdict="accept")
    services.iteration_apply(iteration=iteration, user=writer)
    assert Document.objects.get().current_text == FIXED_TEXT


def test_record_without_edit_actions_is_applied_unchanged(writer):
    result = documents_import(owner=writer, filename="r.json", data=json.dumps(r3_record(edit_actions=[])).encode())
    iteration = result.documents[0].iterations.get()
    assert iteration.status == Iteration.Status.APPLIED and iteration.text_after == BEFORE


def test_records_with_one_doc_id_continue_the_document(writer):
    second_before = "The cat sat on the mat. It were happy."
    second = {
        "doc_id": "paper-1",
        "revision_depth": 2,
        "before_revision": second_before,
        "edit_actions": [
            {
                "type": "R",
                "before": "were",
                "after": "was",
                "start_char_pos": 27,
                "end_char_pos": 31,
                "major_intent": "Meaning_Changed",
                "accept_or_reject": "accepted",
            }
        ],
    }
    # A third revision whose text differs from what the second left: the gap is a writer edit.
    third = {
        "doc_id": "paper-1",
        "revision_depth": 4,
        "before_revision": "A dog sat.",
        "edit_actions": [
            {
                "type": "A",
                "before": None,
                "after": " down",
                "start_char_pos": 9,
                "end_char_pos": 9,
                "major_intent": "others",
            }
        ],
    }
    other = {"doc_id": "paper-2", "before_revision": "Other text.", "edit_actions": []}
    result = documents_import(owner=writer, filename="chain.jsonl", data=jsonl(r3_record(), other, second, third))
    assert [d.title for d in result.documents] == ["paper-1", "paper-2"]
    document = result.documents[0]
    rows = list(document.iterations.order_by("number").values_list("number", "source", "depth", "status"))
    assert rows == [
        (1, "model", 1, "applied"),
        (2, "model", 2, "applied"),
        (3, "writer", 2, "applied"),
        (4, "model", 4, "review"),
    ]
    writer_round = document.iterations.get(number=3)
    assert writer_round.text_before == FIXED_TEXT and writer_round.text_after == "A dog sat."
    assert EditProposal.objects.get(iteration__number=2, iteration__document=document).intent == "meaning-changed"
    assert EditProposal.objects.get(iteration__number=4, iteration__document=document).intent == "clarity"
    document.refresh_from_db()
    assert document.current_text == "A dog sat."


def test_only_the_last_revision_may_stay_undecided(writer):
    first = r3_record()
    for action in first["edit_actions"]:
        action["accept_or_reject"] = None
    second = r3_record(revision_depth=2, before_revision=BEFORE)
    with pytest.raises(
        WritingError, match=r"chain\.jsonl, line 1 \(doc_id 'paper-1'\): .*only the last one can be left open"
    ):
        documents_import(owner=writer, filename="chain.jsonl", data=jsonl(first, second))
    assert not Document.objects.exists()


def test_revision_depths_must_increase(writer):
    with pytest.raises(WritingError, match=r"line 2 .*revision_depth 1 does not follow 1"):
        documents_import(
            owner=writer, filename="d.jsonl", data=jsonl(r3_record(), r3_record(before_revision=BEFORE[:-1] + "!"))
        )


def test_malformed_json_line_names_the_line_and_saves_nothing(writer):
    data = jsonl({"text": "A fine document."}) + b'\n{"text": "broken\n'
    with pytest.raises(
        WritingError, match=r"docs\.jsonl, line 3: not valid JSON \(.*column \d+\)\. Nothing was imported"
    ):
        documents_import(owner=writer, filename="docs.jsonl", data=data)
    assert not Document.objects.exists()


def test_malformed_json_file_names_line_and_column(writer):
    with pytest.raises(WritingError, match=r"r3\.json: not valid JSON \(.* at line 2, column \d+\)"):
        documents_import(owner=writer, filename="r3.json", data=b'[\n{"doc_id": 1,,}]')


def test_a_line_that_is_neither_document_nor_record_is_refused(writer):
    with pytest.raises(WritingError, match=r"x\.jsonl, line 1: expected a document"):
        documents_import(owner=writer, filename="x.jsonl", data=jsonl({"body": "?"}))
    with pytest.raises(WritingError, match=r"x\.jsonl, line 1: expected a JSON object"):
        documents_import(owner=writer, filename="x.jsonl", data=b"[1, 2]\n")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            {"start_char_pos": 20, "end_char_pos": 24},
            r"edit_actions\[0\]: before_revision\[20:24\] is 'he m', not 'the '",
        ),
        (
            {"start_char_pos": 40, "end_char_pos": 99},
            r"edit_actions\[0\]: span 40:99 is outside before_revision \(length 42\)",
        ),
        (
            {"start_char_pos": "19", "end_char_pos": 23},
            r"edit_actions\[0\]: \"start_char_pos\" and \"end_char_pos\" must be whole numbers",
        ),
        ({"type": "R"}, r"edit_actions\[0\]: type R does not match"),
        ({"type": "X"}, r"edit_actions\[0\]: \"type\" must be \"A\", \"R\" or \"D\""),
        ({"major_intent": "grammar"}, r"edit_actions\[0\]: unknown \"major_intent\" 'grammar'"),
        ({"accept_or_reject": "maybe"}, r"edit_actions\[0\]: \"accept_or_reject\" must be \"accept\" or \"reject\""),
    ],
)
def test_bad_edit_actions_name_the_record_and_action(writer, action, message):
    record = r3_record()
    record["edit_actions"][0].update(action)
    with pytest.raises(WritingError, match=r"bad\.json, record 1 \(doc_id 'paper-1'\), " + message):
        documents_import(owner=writer, filename="bad.json", data=json.dumps([record]).encode())
    assert not Document.objects.exists() and not Iteration.objects.exists()


def test_overlapping_edit_actions_are_refused(writer):
    record = r3_record()
    record["edit_actions"].append(
        {"type": "R", "before": "the", "after": "a", "start_char_pos": 19, "end_char_pos": 22, "major_intent": "style"}
    )
    with pytest.raises(WritingError, match=r"the edit actions overlap: edit at 19:23 overlaps the one before it"):
        documents_import(owner=writer, filename="bad.json", data=json.dumps(record).encode())
    assert not Document.objects.exists()


def test_second_bad_record_rolls_back_the_first(writer):
    bad = r3_record(doc_id="paper-2")
    bad["edit_actions"][1]["end_char_pos"] = 36
    with pytest.raises(WritingError, match=r"line 2 \(doc_id 'paper-2'\), edit_actions\[1\]"):
        documents_import(owner=writer, filename="two.jsonl", data=jsonl(r3_record(), bad))
    assert not Document.objects.exists() and not Decision.objects.exists()


def test_instruction_names_and_free_text(writer):
    known = r3_record(doc_id="a", instruction="simplify")
    free = r3_record(doc_id="b", instruction="Make it rhyme")
    none = r3_record(doc_id="c")
    documents_import(owner=writer, filename="i.jsonl", data=jsonl(known, free, none))
    rows = dict(Iteration.objects.values_list("document__title", "instruction"))
    texts = dict(Iteration.objects.values_list("document__title", "instruction_text"))
    assert rows == {"a": "simplify", "b": "custom", "c": "fix_grammar"}
    assert texts["a"] == "Simplify this sentence" and texts["b"] == "Make it rhyme"


# ---------------------------------------------------------------------------------------------
# Export


def _history_document(owner) -> Document:
    """A document with an applied round, a writer edit and a round in review, partly decided."""
    document = DocumentFactory(owner=owner)
    first = iteration_in_review(document, FIXED_TEXT)
    delete, replace = first.proposals.order_by("index")
    services.proposal_decide(proposal=delete, user=owner, verdict="accept")
    services.proposal_decide(proposal=replace, user=owner, verdict="reject")
    services.proposal_decide(proposal=replace, user=owner, verdict="accept")
    services.iteration_apply(iteration=first, user=owner)
    services.document_text_edit(document=document, user=owner, text=FIXED_TEXT + " Then it slept.")
    document.refresh_from_db()
    second = iteration_in_review(document, "The cat sat on a mat. It was happy. Then it slept!")
    services.proposal_decide(proposal=second.proposals.get(index=0), user=owner, verdict="reject")
    return document


def test_export_writes_one_record_per_round_in_the_import_schema(writer):
    document = _history_document(writer)
    records = parsed(documents_export_jsonl(Document.objects.filter(pk=document.pk)))
    assert [(r["iteration"], r["source"], r["status"], r["revision_depth"]) for r in records] == [
        (1, "model", "applied", 1),
        (2, "writer", "applied", 1),
        (3, "model", "review", 2),
    ]
    first, edit, second = records
    assert first["doc_id"] == str(document.pk) and first["title"] == document.title
    assert first["before_revision"] == document.original_text
    assert first["after_revision"] == FIXED_TEXT and first["model_output"] == FIXED_TEXT
    assert first["instruction"] == "fix_grammar" and first["model_version"].startswith("version-")
    assert first["edit_actions"][0] == {
        "type": "D",
        "before": "the ",
        "after": None,
        "start_char_pos": 19,
        "end_char_pos": 23,
        "major_intent": "fluency",
        "score": 0.5,
        "accept_or_reject": "accept",
        "decisions": [
            {
                "verdict": "accept",
                "decided_by": writer.username,
                "decided_at": first["edit_actions"][0]["decisions"][0]["decided_at"],
                "via": "web",
            }
        ],
    }
    assert [d["verdict"] for d in first["edit_actions"][1]["decisions"]] == ["reject", "accept"]
    assert first["edit_actions"][1]["accept_or_reject"] == "accept"
    assert edit["edit_actions"] == [] and edit["after_revision"] == FIXED_TEXT + " Then it slept."
    assert second["after_revision"] == second["model_output"]  # in review: what the model proposed
    assert [a["accept_or_reject"] for a in second["edit_actions"]] == ["reject", None]


def test_export_of_undone_decision_has_no_verdict_and_skips_failed_rounds(writer, document):
    review = iteration_in_review(document, FIXED_TEXT)
    proposal = review.proposals.get(index=0)
    services.proposal_decide(proposal=proposal, user=writer, verdict="accept")
    services.decision_undo(iteration=review, user=writer)
    (record,) = parsed(documents_export_jsonl([document]))
    assert record["edit_actions"][0]["accept_or_reject"] is None
    assert [d["verdict"] for d in record["edit_actions"][0]["decisions"]] == ["accept", "undecided"]

    plain = DocumentFactory(owner=writer, title="Fails")
    Iteration.objects.create(
        document=plain,
        number=1,
        depth=1,
        status="failed",
        text_before=plain.current_text,
        created_by=writer,
        error="out of memory",
    )
    assert parsed(documents_export_jsonl([plain])) == [
        {"doc_id": str(plain.pk), "title": "Fails", "text": plain.current_text}
    ]


def test_export_reads_a_fixed_number_of_queries_per_batch(writer, django_assert_num_queries):
    small = [DocumentFactory(owner=writer) for _ in range(3)]
    for document in small:
        iteration_in_review(document, FIXED_TEXT)
    with django_assert_num_queries(8):  # two batches of four: documents, iterations, proposals, decisions
        lines = list(documents_export_jsonl(Document.objects.filter(pk__in=[d.pk for d in small]), batch_size=2))
    assert len(lines) == 3

    big = [
        DocumentFactory(owner=writer, original_text="a b c d e f g h", current_text="a b c d e f g h") for _ in range(3)
    ]
    for document in big:
        review = iteration_in_review(document, "A B C D E F G H")
        services.proposals_decide_all(iteration=review, user=writer, verdict="accept")
        services.iteration_apply(iteration=review, user=writer)
        document.refresh_from_db()
        iteration_in_review(document, "A b C d E f G h")
    with django_assert_num_queries(8):
        lines = list(documents_export_jsonl(Document.objects.filter(pk__in=[d.pk for d in big]), batch_size=2))
    assert len(lines) == 6


# ---------------------------------------------------------------------------------------------
# Round trip


def _snapshot(document: Document) -> dict:
    iterations = []
    for it in document.iterations.order_by("number"):
        proposals = []
        for p in it.proposals.order_by("index"):
            current = p.decisions.filter(is_current=True).first()
            verdict = current.verdict if current and current.verdict != "undecided" else None
            proposals.append((p.action, p.start_char, p.end_char, p.before, p.after, p.intent, p.score, verdict))
        iterations.append(
            (
                it.number,
                it.source,
                it.status,
                it.depth,
                it.instruction,
                it.instruction_text,
                it.text_before,
                it.model_output,
                it.text_after,
                proposals,
            )
        )
    return {
        "title": document.title,
        "original": document.original_text,
        "current": document.current_text,
        "iterations": iterations,
    }


def _round_trip(documents, owner) -> list[Document]:
    data = "".join(documents_export_jsonl(documents)).encode()
    return documents_import(owner=owner, filename="export.jsonl", data=data).documents


def test_round_trip_keeps_texts_edits_and_current_decisions(writer, other_writer):
    document = _history_document(writer)
    unicode_doc = DocumentFactory(
        owner=writer,
        title="Ünïcode 😀",
        original_text="Crème brûlée 😀 is 很好\u2028and naïve.\x85",
        current_text="Crème brûlée 😀 is 很好\u2028and naïve.\x85",
    )
    review = iteration_in_review(unicode_doc, "Crème brûlée 🍮 is 非常好\u2028and naive!\x85")
    services.proposal_decide(proposal=review.proposals.get(index=0), user=writer, verdict="accept")
    plain = DocumentFactory(owner=writer, title="No rounds yet")
    originals = [document, unicode_doc, plain]

    imported = _round_trip(Document.objects.filter(pk__in=[d.pk for d in originals]), other_writer)

    assert [_snapshot(d) for d in imported] == [_snapshot(d) for d in originals]
    assert all(d.owner == other_writer for d in imported)
    assert Decision.objects.filter(proposal__iteration__document__in=imported, via="import").count() == 4


WORDS = st.sampled_from(["the", "cat", "Crème", "brûlée", "naïve", "😀", "🐈‍⬛", "猫", "很好", "ß", "a", ",", ".", "—"])
SENTENCE = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=SENTENCE,
    after=SENTENCE,
    verdicts=st.lists(st.sampled_from(["accept", "reject", None]), max_size=12),
    apply=st.booleans(),
)
def test_round_trip_property(db, before, after, verdicts, apply):
    owner = UserFactory()
    document = DocumentFactory(owner=owner, original_text=before, current_text=before)
    if diff_words(before, after):
        review = iteration_in_review(document, after)
        for proposal, verdict in zip(review.proposals.order_by("index"), verdicts):
            if verdict:
                services.proposal_decide(proposal=proposal, user=owner, verdict=verdict)
        if apply:
            services.iteration_apply(iteration=review, user=owner)
    document.refresh_from_db()

    (imported,) = _round_trip(Document.objects.filter(pk=document.pk), UserFactory())

    assert _snapshot(imported) == _snapshot(document)


# ---------------------------------------------------------------------------------------------
# Management commands


def test_import_and_export_commands(writer, tmp_path):
    (tmp_path / "a.txt").write_text("Hello wörld 😀.", encoding="utf-8")
    (tmp_path / "b.jsonl").write_bytes(jsonl(r3_record()))
    out = stdio.StringIO()
    call_command(
        "import_documents", "--user", writer.username, str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl"), stdout=out
    )
    assert "a.txt: 1 documents, 0 decisions" in out.getvalue()
    assert "b.jsonl: 1 documents, 2 decisions" in out.getvalue()

    target = tmp_path / "out.jsonl"
    call_command("export_documents", "--user", writer.username, "--out", str(target), stderr=stdio.StringIO())
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["title"] for r in records) == ["a", "paper-1"]
    assert {"text": "Hello wörld 😀."}.items() <= next(r for r in records if r["title"] == "a").items()

    stdout = stdio.StringIO()
    call_command("export_documents", "--user", writer.username, stdout=stdout)
    assert [json.loads(line) for line in stdout.getvalue().splitlines()] == records


def test_import_command_saves_nothing_when_one_file_fails(writer, tmp_path):
    (tmp_path / "good.txt").write_text("Fine.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe bad")
    with pytest.raises(CommandError, match=r"bad\.txt is not valid UTF-8"):
        call_command(
            "import_documents", "--user", writer.username, str(tmp_path / "good.txt"), str(tmp_path / "bad.txt")
        )
    assert not Document.objects.exists()
    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        call_command("import_documents", "--user", "nobody", str(tmp_path / "good.txt"))
