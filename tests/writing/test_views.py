"""The writing screens: pages, fragments, forms, permissions and the R3 loop driven over HTTP."""

import json
import sys
import types
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.conftest import FIXED_TEXT
from tests.factories import DocumentFactory, ProjectFactory, iteration_in_review
from webapp.core.services import job_create
from webapp.writing import services
from webapp.writing.errors import WritingError
from webapp.writing.models import Decision, Document, EditProposal, Iteration
from webapp.writing.views import Segment, acceptance_chart, redline_segments

HTMX = {"HX-Request": "true"}


def url(name, *args):
    return reverse(f"writing:{name}", args=args)


def current_verdicts(iteration):
    return dict(
        Decision.objects.filter(proposal__iteration=iteration, is_current=True).values_list("proposal_id", "verdict")
    )


def post_urls(document, iteration, proposal):
    """Every POST endpoint of the writing screens, with a body that would succeed."""
    return [
        (url("document_create"), {"text": "Some text.", "max_depth": 5}),
        (url("document_import"), {}),
        (url("suggest", document.pk), {"instruction": "fix_grammar"}),
        (url("edit_text", document.pk), {"text": "New text."}),
        (url("proposal_decide", proposal.pk), {"verdict": "accept", "based_on": 0}),
        (url("decide_all", iteration.pk), {"verdict": "accept"}),
        (url("undo", iteration.pk), {}),
        (url("apply", iteration.pk), {"revise_again": "0"}),
        (url("retry", iteration.pk), {}),
    ]


# Pure helpers


class TestRedlineSegments:
    def test_text_and_proposals_alternate_and_rebuild_the_text(self):
        text = "The cat sat on the the mat."
        proposals = [
            SimpleNamespace(start_char=15, end_char=19, index=0, before="the "),
            SimpleNamespace(start_char=4, end_char=7, index=1, before="cat"),
        ]
        segments = redline_segments(text, proposals)
        assert [s.proposal.index if s.proposal else s.text for s in segments] == [
            "The ",
            1,
            " sat on ",
            0,
            "the mat.",
        ]
        rebuilt = "".join(s.text or s.proposal.before for s in segments)
        assert rebuilt == text

    def test_insertion_at_the_end_and_no_proposals(self):
        text = "Hello"
        add = SimpleNamespace(start_char=5, end_char=5, index=0, before="")
        assert redline_segments(text, [add]) == [Segment(text="Hello"), Segment(proposal=add)]
        assert redline_segments(text, []) == [Segment(text="Hello")]

    def test_an_overlapping_proposal_is_still_shown(self):
        text = "abcdef"
        first = SimpleNamespace(start_char=1, end_char=4, index=0, before="bcd")
        overlapping = SimpleNamespace(start_char=2, end_char=5, index=1, before="cde")
        segments = redline_segments(text, [first, overlapping])
        assert [s.proposal for s in segments if s.proposal] == [first, overlapping]
        assert segments[-1] == Segment(text="f")


def test_acceptance_chart_scales_bars_to_the_rate():
    chart = acceptance_chart(
        [{"depth": 1, "rate": 1.0}, {"depth": 2, "rate": 0.25}, {"depth": 3, "rate": None}], plot_height=100
    )
    heights = [bar.height for bar in chart.bars]
    assert heights == [100, 25, 0]
    assert [bar.label for bar in chart.bars] == ["100%", "25%", "–"]
    assert all(bar.y + bar.height == chart.plot_bottom for bar in chart.bars)
    assert chart.bars[0].x < chart.bars[1].x < chart.bars[2].x < chart.width


# Who may see what


def test_anonymous_people_are_sent_to_log_in(client, document, review):
    proposal = review.proposals.first()
    for page in [
        url("document_list"),
        url("document_detail", document.pk),
        url("document_history", document.pk),
        url("export_all"),
        url("document_export", document.pk),
    ]:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(reverse("login")), page
    for target, data in post_urls(document, review, proposal):
        response = client.post(target, data)
        assert response.status_code == 302, target
        assert response["Location"].startswith(reverse("login")), target
    assert not Decision.objects.exists()


def test_someone_elses_document_is_a_404_everywhere(client, other_writer, document, review):
    client.force_login(other_writer)
    proposal = review.proposals.first()
    for page in [
        url("document_detail", document.pk),
        url("document_history", document.pk),
        url("document_export", document.pk),
    ]:
        assert client.get(page).status_code == 404, page
        assert client.get(page, headers=HTMX).status_code == 404, page
    for target, data in post_urls(document, review, proposal)[2:]:
        assert client.post(target, data).status_code == 404, target
        assert client.post(target, data, headers=HTMX).status_code == 404, target
    assert not Decision.objects.exists()
    assert Iteration.objects.filter(document=document).count() == 1
    document.refresh_from_db()
    assert document.current_text == document.original_text


def test_the_list_shows_only_ones_own_documents(client, writer, other_writer, document):
    theirs = DocumentFactory(owner=other_writer, title="Their secret plans")
    client.force_login(writer)
    response = client.get(url("document_list"))
    assert response.status_code == 200
    assert f'id="document-{document.pk}"' in response.text
    assert theirs.title not in response.text


def test_an_annotator_cannot_create_documents(client, annotator):
    client.force_login(annotator)
    page = client.get(url("document_list"))
    assert page.status_code == 200
    assert "Create document" not in page.text
    response = client.post(url("document_create"), {"text": "Annotators do not write.", "max_depth": 3})
    assert response.status_code == 403
    assert not Document.objects.exists()
    assert client.post(url("document_import"), {}).status_code == 403


def test_an_annotator_in_the_project_can_read_but_not_decide(client, annotator, document, review):
    project = ProjectFactory()
    project.members.add(annotator, document.owner)
    Document.objects.filter(pk=document.pk).update(project=project)
    client.force_login(annotator)
    page = client.get(url("document_detail", document.pk))
    assert page.status_code == 200
    assert 'class="edit ' in page.text
    assert ">Accept<" not in page.text
    proposal = review.proposals.first()
    assert client.post(url("proposal_decide", proposal.pk), {"verdict": "accept", "based_on": 0}).status_code == 403
    assert not Decision.objects.exists()


def test_every_post_needs_the_csrf_token(writer, document, review):
    client = Client(enforce_csrf_checks=True)
    client.force_login(writer)
    proposal = review.proposals.first()
    for target, data in post_urls(document, review, proposal):
        response = client.post(target, data)
        assert response.status_code == 403, target
        assert b"CSRF" in response.content, target
    assert not Decision.objects.exists()
    assert Document.objects.count() == 1


def test_staff_see_the_admin_link_and_logout_is_a_post_form(client, writer, admin_user):
    client.force_login(writer)
    page = client.get(url("document_list")).text
    assert "Django admin" not in page
    assert f'<form class="nav-logout" method="post" action="{reverse("logout")}">' in page
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    client.force_login(admin_user)
    assert "Django admin" in client.get(url("document_list")).text


# Untrusted text


def test_html_in_the_document_and_the_proposals_is_escaped(writer_client, writer):
    text = "Intro <script>alert(1)</script> and <b>bold</b> words here."
    document = DocumentFactory(owner=writer, title="<script>alert('title')</script>", original_text=text)
    iteration = iteration_in_review(document, text.replace("words", "<script>alert(2)</script>"))
    EditProposal.objects.filter(iteration=iteration).update(intent="clarity")
    pages = [
        writer_client.get(url("document_detail", document.pk)),
        writer_client.get(url("document_detail", document.pk), headers=HTMX),
        writer_client.get(url("document_history", document.pk)),
        writer_client.get(url("document_list")),
    ]
    for response in pages:
        assert "&lt;script&gt;alert" in response.text
        assert "<script>alert" not in response.text
    detail = pages[0].text
    assert "&lt;b&gt;bold&lt;/b&gt;" in detail
    assert "<ins>&lt;script&gt;alert(2)&lt;/script&gt;</ins>" in detail


def test_edits_the_preference_model_held_back_are_shown_folded_and_escaped(writer_client, writer):
    document = DocumentFactory(owner=writer, original_text="the cache keep it", current_text="the cache keep it")
    iteration = iteration_in_review(document, "the cache keeps it")
    held = [
        {"start": 0, "end": 3, "before": "the", "after": "The"},
        {"start": 17, "end": 17, "before": "", "after": "<b>.</b>"},
    ]
    iteration.generation_settings = {"held_back_by_preference": 2, "held_back": held}
    iteration.save(update_fields=["generation_settings"])
    page = writer_client.get(url("document_detail", document.pk)).text
    assert '<details class="held-back" id="held-back">' in page and "2 edits held back" in page
    assert "<del>the</del><ins>The</ins>" in page and "<ins>&lt;b&gt;.&lt;/b&gt;</ins>" in page
    iteration.generation_settings = {}
    iteration.save(update_fields=["generation_settings"])
    assert 'id="held-back"' not in writer_client.get(url("document_detail", document.pk)).text


def test_html_in_a_decision_fragment_is_escaped(writer_client, writer):
    text = "Keep this plain."
    document = DocumentFactory(owner=writer, original_text=text)
    iteration = iteration_in_review(document, "Keep <img src=x onerror=alert(1)> plain.")
    proposal = iteration.proposals.get()
    response = writer_client.post(
        url("proposal_decide", proposal.pk), {"verdict": "accept", "based_on": 0}, headers=HTMX
    )
    assert response.status_code == 200
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert "<img" not in response.text


# Creating documents


def test_pasting_a_document_creates_it_and_opens_it(writer_client, writer):
    response = writer_client.post(
        url("document_create"), {"title": "", "text": "A short note.\nSecond line.", "max_depth": 3}
    )
    document = Document.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("document_detail", document.pk)
    assert document.owner == writer
    assert document.title == "A short note."
    assert document.max_depth == 3
    assert document.current_text == "A short note.\nSecond line."
    page = writer_client.get(response["Location"])
    assert "is created" in page.text
    assert "Suggest edits" in page.text


def test_the_create_form_defaults_to_the_configured_depth(writer_client):
    page = writer_client.get(url("document_list")).text
    assert f'name="max_depth" value="{settings.REDLINE_MAX_DEPTH}"' in page


def test_uploading_a_utf8_file_creates_the_document(writer_client):
    upload = SimpleUploadedFile("notes.md", "# Café notes\n\nNaïve text.".encode())
    response = writer_client.post(url("document_create"), {"title": "Notes", "file": upload, "max_depth": 5})
    assert response.status_code == 302
    document = Document.objects.get()
    assert document.title == "Notes"
    assert document.current_text == "# Café notes\n\nNaïve text."


def test_an_invalid_utf8_upload_is_refused_and_nothing_saved(writer_client):
    upload = SimpleUploadedFile("latin1.txt", "Caf\xe9 au lait".encode("latin-1"))
    response = writer_client.post(url("document_create"), {"file": upload, "max_depth": 5})
    assert response.status_code == 400
    assert "is not valid UTF-8 text" in response.text
    assert not Document.objects.exists()


def test_an_upload_of_another_kind_is_refused(writer_client):
    upload = SimpleUploadedFile("report.pdf", b"%PDF-1.7")
    response = writer_client.post(url("document_create"), {"file": upload, "max_depth": 5})
    assert response.status_code == 400
    assert "is not a .txt or .md file" in response.text
    assert not Document.objects.exists()


def test_pasting_and_uploading_at_once_is_refused(writer_client):
    upload = SimpleUploadedFile("a.txt", b"from the file")
    response = writer_client.post(url("document_create"), {"text": "pasted", "file": upload, "max_depth": 5})
    assert response.status_code == 400
    assert "Paste text or upload a file, not both." in response.text
    assert not Document.objects.exists()


def test_an_empty_document_is_refused(writer_client):
    response = writer_client.post(url("document_create"), {"text": "   \n  ", "max_depth": 5})
    assert response.status_code == 400
    assert "The document is empty" in response.text
    assert not Document.objects.exists()


def test_a_one_megabyte_document_is_refused_with_the_limit(writer_client):
    text = "x" * 1_000_000
    response = writer_client.post(url("document_create"), {"text": text, "max_depth": 5})
    assert response.status_code == 400
    assert f"the limit is {settings.REDLINE_MAX_DOCUMENT_CHARS:,}" in response.text
    assert not Document.objects.exists()


def test_a_depth_out_of_range_is_refused(writer_client):
    response = writer_client.post(url("document_create"), {"text": "Fine text.", "max_depth": 0})
    assert response.status_code == 400
    assert "greater than or equal to 1" in response.text
    assert not Document.objects.exists()


# Import and export (webapp/writing/transfer.py has its own tests; these check the views' wiring)


@pytest.fixture
def fake_io(monkeypatch):
    import webapp.writing

    calls = {}
    module = types.ModuleType("webapp.writing.transfer")

    def documents_export_jsonl(documents):
        calls["exported"] = sorted(documents.values_list("pk", flat=True))
        for document in documents.order_by("pk"):
            yield json.dumps({"id": document.pk, "title": document.title}) + "\n"

    def documents_import(*, owner, filename, data):
        calls["imported"] = (owner.pk, filename, data)
        if data == b"not json":
            raise WritingError("Line 1 is not JSON; nothing was imported.")
        documents = [DocumentFactory(owner=owner), DocumentFactory(owner=owner)]
        return SimpleNamespace(documents=documents, decisions=7)

    module.documents_export_jsonl = documents_export_jsonl
    module.documents_import = documents_import
    monkeypatch.setitem(sys.modules, "webapp.writing.transfer", module)
    monkeypatch.setattr(webapp.writing, "transfer", module, raising=False)
    return calls


def test_export_all_streams_json_lines_of_ones_own_documents(writer_client, writer, other_writer, document, fake_io):
    DocumentFactory(owner=other_writer)
    mine = DocumentFactory(owner=writer)
    response = writer_client.get(url("export_all"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert "attachment" in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [document.pk, mine.pk]
    assert fake_io["exported"] == [document.pk, mine.pk]


def test_export_one_document(writer_client, writer, document, fake_io):
    DocumentFactory(owner=writer)
    response = writer_client.get(url("document_export", document.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert f"redline-document-{document.pk}.jsonl" in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [document.pk]


def test_import_reports_what_came_in(writer_client, writer, fake_io):
    upload = SimpleUploadedFile("backup.jsonl", b'{"title": "x"}\n')
    response = writer_client.post(url("document_import"), {"file": upload}, follow=True)
    assert response.redirect_chain[-1][0] == url("document_list")
    assert "Imported 2 documents with 7 decisions." in response.text
    assert fake_io["imported"] == (writer.pk, "backup.jsonl", b'{"title": "x"}\n')
    assert Document.objects.filter(owner=writer).count() == 2


def test_a_failed_import_shows_why(writer_client, fake_io):
    upload = SimpleUploadedFile("backup.jsonl", b"not json")
    response = writer_client.post(url("document_import"), {"file": upload})
    assert response.status_code == 400
    assert "Line 1 is not JSON; nothing was imported." in response.text
    assert not Document.objects.exists()


def test_an_import_without_a_file_is_refused(writer_client, fake_io):
    response = writer_client.post(url("document_import"), {})
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert "imported" not in fake_io


def test_import_and_export_with_the_real_io_module(writer_client, writer):
    line = json.dumps({"title": "Imported <b>note</b>", "text": "Text from a file."}) + "\n"
    upload = SimpleUploadedFile("notes.jsonl", line.encode())
    response = writer_client.post(url("document_import"), {"file": upload}, follow=True)
    document = Document.objects.get(owner=writer)
    assert response.redirect_chain[-1][0] == url("document_detail", document.pk)
    assert "Imported 1 document with 0 decisions." in response.text
    assert document.current_text == "Text from a file."
    exported = writer_client.get(url("export_all"))
    assert exported["Content-Type"] == "application/x-ndjson"
    records = [json.loads(x) for x in b"".join(exported.streaming_content).decode().splitlines()]
    assert [r["title"] for r in records] == ["Imported <b>note</b>"]


# Asking for edits


def test_suggest_queues_a_round_and_redirects(writer_client, document, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = writer_client.post(url("suggest", document.pk), {"instruction": "simplify", "custom_text": ""})
    assert response.status_code == 302
    assert response["Location"] == url("document_detail", document.pk)
    iteration = Iteration.objects.get(document=document)
    assert (iteration.status, iteration.instruction, iteration.depth) == ("queued", "simplify", 1)
    assert len(callbacks) == 1
    page = writer_client.get(url("document_detail", document.pk))
    assert 'data-state="running"' in page.text
    assert 'hx-trigger="every 1s"' in page.text
    assert "Waiting for a worker" in page.text


def test_suggest_with_htmx_answers_the_polling_round(writer_client, document, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = writer_client.post(
            url("suggest", document.pk), {"instruction": "custom", "custom_text": "Make it friendlier"}, headers=HTMX
        )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="round"')
    assert "<html" not in response.text
    assert f'hx-get="{url("document_detail", document.pk)}" hx-trigger="every 1s"' in response.text
    iteration = Iteration.objects.get(document=document)
    assert iteration.instruction_text == "Make it friendlier"
    assert f"Round {iteration.number} is queued." in response.text


def test_an_unknown_instruction_is_refused(writer_client, document):
    response = writer_client.post(url("suggest", document.pk), {"instruction": "summon_demons"})
    assert response.status_code == 400
    assert "Unknown instruction &#x27;summon_demons&#x27;" in response.text
    assert "fix_grammar" in response.text
    assert not Iteration.objects.exists()


def test_a_free_instruction_needs_its_text(writer_client, document):
    response = writer_client.post(
        url("suggest", document.pk), {"instruction": "custom", "custom_text": " "}, headers=HTMX
    )
    assert response.status_code == 400
    assert "A free instruction needs its text" in response.text
    assert not Iteration.objects.exists()


def test_suggest_while_a_round_is_open_is_a_conflict(writer_client, document, review):
    response = writer_client.post(url("suggest", document.pk), {"instruction": "fix_grammar"}, headers=HTMX)
    assert response.status_code == 409
    assert "already open" in response.text
    assert Iteration.objects.filter(document=document).count() == 1


def test_polling_the_document_stops_once_the_round_is_not_running(writer_client, writer, document):
    job = job_create(kind="generate", user=writer, message="Revised 2 of 4 sentences", total=4)
    job.done = 2
    job.save()
    iteration = Iteration.objects.create(
        document=document,
        number=1,
        depth=1,
        status="generating",
        instruction="fix_grammar",
        text_before=document.current_text,
        created_by=writer,
        job=job,
    )
    running = writer_client.get(url("document_detail", document.pk), headers=HTMX)
    assert running.status_code == 200
    assert 'hx-trigger="every 1s"' in running.text
    assert 'aria-valuenow="50"' in running.text
    assert "Revised 2 of 4 sentences" in running.text
    assert f'id="job-{job.pk}"' in running.text
    # The page polls for the whole round; the job inside it does not poll on its own.
    assert f'hx-get="{reverse("core:job_status", args=[job.pk])}"' not in running.text

    Iteration.objects.filter(pk=iteration.pk).update(status="review")
    EditProposal.objects.create(
        iteration=iteration, index=0, action="D", start_char=16, end_char=20, before="the ", after="", intent="fluency"
    )
    finished = writer_client.get(url("document_detail", document.pk), headers=HTMX)
    assert finished.status_code == 286
    assert 'id="review"' in finished.text
    assert 'hx-trigger="every 1s"' not in finished.text


# The review


def test_the_review_shows_a_redline_with_one_element_per_edit(writer_client, document, review):
    page = writer_client.get(url("document_detail", document.pk)).text
    first, second = review.proposals.order_by("index")
    assert f'id="edit-{first.pk}"' in page and f'id="edit-{second.pk}"' in page
    assert page.count('class="edit intent-fluency decision-undecided"') == 2
    assert "<del>the </del>" in page
    assert "<del>were</del><ins>was</ins>" in page
    assert 'data-decision="undecided"' in page
    assert "The cat sat on the <span" in page  # the text around the edits, unchanged
    assert "2 undecided edits will count as rejected when you apply." in page
    assert f"Model <code>{review.model_version.name}</code>" in page
    assert "Depth 1 of 5" in page
    for button in ("Accept all", "Reject all", "Undo", "Apply and revise again", "Apply only"):
        assert f">{button}</button>" in page
    assert page.count(">Accept</button>") == 2 and page.count(">Reject</button>") == 2
    assert "<kbd>j</kbd>" in page  # the shortcut legend


def test_deciding_without_javascript_redirects_to_the_edit(writer_client, document, review):
    proposal = review.proposals.order_by("index").first()
    response = writer_client.post(url("proposal_decide", proposal.pk), {"verdict": "reject", "based_on": 0})
    assert response.status_code == 302
    assert response["Location"] == url("document_detail", document.pk) + f"#edit-{proposal.pk}"
    assert current_verdicts(review) == {proposal.pk: "reject"}


def test_deciding_with_htmx_returns_the_edit_and_the_counts(writer_client, review):
    proposal = review.proposals.order_by("index").first()
    response = writer_client.post(
        url("proposal_decide", proposal.pk), {"verdict": "accept", "based_on": 0}, headers=HTMX
    )
    assert response.status_code == 200
    decision = Decision.objects.get(proposal=proposal, is_current=True)
    assert response.text.startswith(f'<span class="edit intent-fluency decision-accept" id="edit-{proposal.pk}"')
    assert 'data-decision="accept"' in response.text
    assert f'name="based_on" value="{decision.pk}"' in response.text
    assert '<div id="counts" class="counts" hx-swap-oob="true">' in response.text
    assert '<span data-count="decided">1</span>' in response.text
    assert "1 undecided edit will count as rejected" in response.text
    assert "<html" not in response.text


def test_a_double_submitted_decision_records_one_row(writer_client, review):
    proposal = review.proposals.order_by("index").first()
    data = {"verdict": "accept", "based_on": 0}
    first = writer_client.post(url("proposal_decide", proposal.pk), data, headers=HTMX)
    second = writer_client.post(url("proposal_decide", proposal.pk), data, headers=HTMX)
    assert (first.status_code, second.status_code) == (200, 200)
    assert Decision.objects.filter(proposal=proposal).count() == 1
    assert 'data-decision="accept"' in second.text
    assert "edit-error" not in second.text


def test_a_stale_decision_is_a_409_with_the_current_state(writer_client, other_writer, review):
    proposal = review.proposals.order_by("index").first()
    services.proposal_decide(proposal=proposal, user=other_writer, verdict="accept", based_on=0)
    response = writer_client.post(
        url("proposal_decide", proposal.pk), {"verdict": "reject", "based_on": 0}, headers=HTMX
    )
    assert response.status_code == 409
    assert f"{other_writer.username} changed this edit meanwhile; it is now accept." in response.text
    assert 'data-decision="accept"' in response.text
    assert current_verdicts(review) == {proposal.pk: "accept"}
    assert Decision.objects.filter(proposal=proposal).count() == 1


def test_a_stale_decision_without_javascript_says_so_after_the_redirect(writer_client, other_writer, review):
    proposal = review.proposals.order_by("index").first()
    services.proposal_decide(proposal=proposal, user=other_writer, verdict="accept", based_on=0)
    response = writer_client.post(
        url("proposal_decide", proposal.pk), {"verdict": "reject", "based_on": 0}, follow=True
    )
    assert "changed this edit meanwhile" in response.text
    assert current_verdicts(review) == {proposal.pk: "accept"}


def test_an_unknown_verdict_and_a_missing_based_on_are_refused(writer_client, review):
    proposal = review.proposals.first()
    bad_verdict = writer_client.post(
        url("proposal_decide", proposal.pk), {"verdict": "maybe", "based_on": 0}, headers=HTMX
    )
    assert bad_verdict.status_code == 400
    assert "Unknown decision &#x27;maybe&#x27;" in bad_verdict.text
    no_based_on = writer_client.post(url("proposal_decide", proposal.pk), {"verdict": "accept"}, headers=HTMX)
    assert no_based_on.status_code == 400
    assert "The page is out of date" in no_based_on.text
    assert not Decision.objects.exists()


def test_decisions_after_apply_are_refused_clearly(writer_client, review):
    proposal = review.proposals.order_by("index").first()
    services.iteration_apply(iteration=review, user=review.created_by)
    response = writer_client.post(
        url("proposal_decide", proposal.pk), {"verdict": "accept", "based_on": 0}, headers=HTMX
    )
    assert response.status_code == 409
    assert "This round is closed; its decisions can no longer change." in response.text
    assert ">Accept</button>" not in response.text
    plain = writer_client.post(url("proposal_decide", proposal.pk), {"verdict": "accept", "based_on": 0}, follow=True)
    assert "This round is closed" in plain.text
    all_response = writer_client.post(url("decide_all", review.pk), {"verdict": "accept"}, headers=HTMX)
    assert all_response.status_code == 409
    assert "This round is closed" in all_response.text
    assert not Decision.objects.exists()


def test_accept_all_then_reject_all_then_undo(writer_client, review):
    ids = set(review.proposals.values_list("pk", flat=True))
    accepted = writer_client.post(url("decide_all", review.pk), {"verdict": "accept"}, headers=HTMX)
    assert accepted.status_code == 200
    assert accepted.text.lstrip().startswith('<section id="round"')
    assert "2 edits accepted." in accepted.text
    assert accepted.text.count('data-decision="accept"') == 2
    assert current_verdicts(review) == dict.fromkeys(ids, "accept")

    rejected = writer_client.post(url("decide_all", review.pk), {"verdict": "reject"})
    assert rejected.status_code == 302
    assert current_verdicts(review) == dict.fromkeys(ids, "reject")

    undone = writer_client.post(url("undo", review.pk), headers=HTMX)
    assert undone.status_code == 200
    assert "Undone: 2 decisions." in undone.text
    assert current_verdicts(review) == dict.fromkeys(ids, "accept")
    assert undone.text.count('data-decision="accept"') == 2


def test_undo_of_one_decision_and_with_nothing_to_undo(writer_client, review):
    proposal = review.proposals.order_by("index").first()
    nothing = writer_client.post(url("undo", review.pk), headers=HTMX)
    assert nothing.status_code == 409
    assert "There is no decision of yours to undo in this round." in nothing.text
    writer_client.post(url("proposal_decide", proposal.pk), {"verdict": "reject", "based_on": 0})
    response = writer_client.post(url("undo", review.pk))
    assert response.status_code == 302
    assert current_verdicts(review) == {proposal.pk: "undecided"}
    page = writer_client.get(response["Location"]).text
    assert "Undone: 1 decision." in page
    assert page.count('data-decision="undecided"') == 2


def test_apply_only_applies_the_accepted_edits(writer_client, document, review):
    accept, reject = review.proposals.order_by("index")
    services.proposal_decide(proposal=accept, user=document.owner, verdict="accept")
    services.proposal_decide(proposal=reject, user=document.owner, verdict="reject")
    response = writer_client.post(url("apply", review.pk), {"revise_again": "0"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.current_text == "The cat sat on the mat. It were happy."
    review.refresh_from_db()
    assert review.status == "applied"
    assert Iteration.objects.filter(document=document).count() == 1
    page = writer_client.get(response["Location"]).text
    assert "Your accepted edits are applied." in page
    assert "Suggest edits" in page


def test_apply_and_revise_again_queues_the_next_round(
    writer_client, document, review, django_capture_on_commit_callbacks
):
    services.proposals_decide_all(iteration=review, user=document.owner, verdict="accept")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = writer_client.post(url("apply", review.pk), {"revise_again": "1"}, headers=HTMX)
    assert response.status_code == 200
    assert len(callbacks) == 1
    following = Iteration.objects.get(document=document, number=2)
    assert (following.status, following.depth, following.instruction) == ("queued", 2, "fix_grammar")
    assert following.text_before == FIXED_TEXT
    assert "The model is revising again." in response.text
    assert 'data-state="running"' in response.text
    assert 'hx-trigger="every 1s"' in response.text


def test_apply_and_revise_again_at_the_maximum_depth_stops(writer_client, writer):
    document = DocumentFactory(owner=writer, max_depth=1)
    iteration = iteration_in_review(document, FIXED_TEXT)
    page = writer_client.get(url("document_detail", document.pk)).text
    assert "This is the last round (depth 1 of 1)" in page
    response = writer_client.post(url("apply", iteration.pk), {"revise_again": "1"}, follow=True)
    assert "Maximum depth reached; the model will not revise again." in response.text
    assert "Maximum depth reached (1 rounds); the loop is done." in response.text
    assert "Suggest edits" not in response.text
    assert Iteration.objects.filter(document=document).count() == 1


def test_a_bad_apply_form_is_refused(writer_client, review):
    response = writer_client.post(url("apply", review.pk), {"revise_again": "sometimes"}, headers=HTMX)
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    review.refresh_from_db()
    assert review.status == "review"


def test_the_loop_says_when_the_model_has_nothing_more(writer_client, writer):
    document = DocumentFactory(owner=writer)
    Iteration.objects.create(
        document=document,
        number=1,
        depth=1,
        status="applied",
        instruction="fix_grammar",
        text_before=document.current_text,
        text_after=document.current_text,
        created_by=writer,
    )
    page = writer_client.get(url("document_detail", document.pk)).text
    assert "The model proposed no further edits; the loop is done." in page
    assert 'data-state="converged"' in page
    listing = writer_client.get(url("document_list")).text
    assert "No further edits" in listing


# Hand edits and failed rounds


def test_a_hand_edit_between_rounds_is_saved_as_a_round(writer_client, document):
    response = writer_client.post(url("edit_text", document.pk), {"text": "My own better text."})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.current_text == "My own better text."
    iteration = Iteration.objects.get(document=document)
    assert (iteration.source, iteration.text_after) == ("writer", "My own better text.")
    unchanged = writer_client.post(url("edit_text", document.pk), {"text": "My own better text."}, headers=HTMX)
    assert unchanged.status_code == 200
    assert "The text is unchanged; nothing was saved." in unchanged.text
    assert Iteration.objects.filter(document=document).count() == 1


def test_a_hand_edit_during_review_is_refused_and_the_text_kept(writer_client, document, review):
    response = writer_client.post(url("edit_text", document.pk), {"text": "Typed with care."})
    assert response.status_code == 409
    assert "already open" in response.text
    assert "Typed with care.</textarea>" in response.text  # nothing typed is lost
    document.refresh_from_db()
    assert document.current_text == document.original_text


def test_an_empty_hand_edit_is_refused_and_the_form_stays_open(writer_client, document):
    response = writer_client.post(url("edit_text", document.pk), {"text": ""}, headers=HTMX)
    assert response.status_code == 400
    assert "The document is empty" in response.text
    assert '<details class="hand-edit" open>' in response.text
    document.refresh_from_db()
    assert document.current_text == document.original_text


def test_a_failed_round_says_why_and_can_be_retried(
    writer_client, writer, document, django_capture_on_commit_callbacks
):
    failed = Iteration.objects.create(
        document=document,
        number=1,
        depth=1,
        status="failed",
        instruction="simplify",
        text_before=document.current_text,
        created_by=writer,
        error="Cannot load the model from /nonexistent/model: no such directory",
    )
    page = writer_client.get(url("document_detail", document.pk)).text
    assert "The last round failed: Cannot load the model from /nonexistent/model: no such directory" in page
    assert ">Retry</button>" in page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = writer_client.post(url("retry", failed.pk), headers=HTMX)
    assert response.status_code == 200
    assert len(callbacks) == 1
    again = Iteration.objects.get(document=document, number=2)
    assert (again.status, again.instruction, again.depth) == ("queued", "simplify", 1)
    assert "The round is queued again." in response.text


def test_only_a_failed_round_can_be_retried(writer_client, review):
    response = writer_client.post(url("retry", review.pk), follow=True)
    assert "Only a failed round can be retried." in response.text
    assert Iteration.objects.count() == 1


# History


def test_history_lists_rounds_decisions_and_acceptance(writer_client, writer, document, review):
    first, second = review.proposals.order_by("index")
    services.proposal_decide(proposal=first, user=writer, verdict="reject")
    services.proposal_decide(proposal=first, user=writer, verdict="accept")
    services.proposal_decide(proposal=second, user=writer, verdict="reject")
    Iteration.objects.filter(pk=review.pk).update(generation_seconds=1.234)
    services.iteration_apply(iteration=review, user=writer)
    services.document_text_edit(document=document, user=writer, text="Hand written.")

    response = writer_client.get(url("document_history", document.pk))
    assert response.status_code == 200
    page = response.text
    assert f'id="iteration-{review.pk}"' in page
    assert "writer's edit" in page
    assert "1.23 s" in page
    assert review.model_version.name in page
    assert 'Fix grammar <span class="muted">(“Fix grammatical errors in this sentence”)</span>' in page
    # The first edit's full history: rejected, then accepted (current).
    row = page[page.index(f'id="proposal-{first.pk}"') : page.index(f'id="proposal-{second.pk}"')]
    assert row.index("verdict-reject") < row.index("verdict-accept")
    assert row.count(f"by {writer.username}") == 2
    assert 'class="superseded"' in row and 'class="current"' in row
    # Depth 1: one accepted, one rejected: 50%.
    table = page[page.index('id="acceptance-table"') : page.index('id="acceptance-chart"')]
    assert '<td class="num">50%</td>' in table
    chart = page[page.index('id="acceptance-chart"') : page.index("</svg>")]
    assert chart.count('<rect class="bar"') == 1
    assert ">50%</text>" in chart


def test_the_review_says_when_a_small_built_in_model_made_the_proposals(writer_client, document, review, tmp_path):
    from inference.model_card import write_model_card

    assert 'id="model-card"' not in writer_client.get(url("document_detail", document.pk)).text
    write_model_card(
        tmp_path, "Redline's built-in editor", "A <small> offline model.", [("edits right", "91%")], "make eval"
    )
    review.model_version.base_model = str(tmp_path)
    review.model_version.save()
    page = writer_client.get(url("document_detail", document.pk)).text
    assert 'id="model-card"' in page and "Redline&#x27;s built-in editor" in page
    assert "A &lt;small&gt; offline model." in page  # a card is text, escaped like everything else
    assert "<dt>edits right</dt><dd>91%</dd>" in page and "<code>make eval</code>" in page
    assert "REDLINE_MODEL" in page
    review.model_version.adapter_path = str(tmp_path / "adapter")  # retrained on top: the card no longer describes it
    review.model_version.save()
    assert 'id="model-card"' not in writer_client.get(url("document_detail", document.pk)).text
