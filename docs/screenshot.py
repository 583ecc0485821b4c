"""Takes docs/screenshot.png: the review page of the demo document, in headless chromium; with
--email, docs/screenshot-email.png: the same page on an ordinary e-mail with seven real mistakes.

The round shown is the built-in editor's real revision (inference.revision, as the worker runs
it); on the demo document the edits to the heading are rejected and the first in the body
accepted, on the e-mail nothing is decided yet. Uses its own database, redline_screenshot.

    .venv/bin/python docs/screenshot.py [--out docs/screenshot.png]
    .venv/bin/python docs/screenshot.py --email [--out docs/screenshot-email.png]
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, django_setup
from bench.decision_latency import free_port, start_gunicorn

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/redline_screenshot"
USERNAME, PASSWORD = "writer", "screenshot-password-1"
EMAIL_TITLE = "Re: your order"
EMAIL_TEXT = (
    "Hi Sarah,\n\n"
    "Thank you for your message. I hope you recieve the invoice by friday. Their is a problem with the the "
    "delivery, because the driver could not find you're address. If you has any questions, please call me "
    "after 5 p.m. on Monday. I will definately send the new date tommorow.\n\n"
    "Best regards,\nTom"
)


def round_in_review(user, email: bool = False):
    from django.conf import settings
    from webapp.accounts.management.commands.seed_demo import DOCUMENT_TEXT, DOCUMENT_TITLE

    from inference.editor import load_editor
    from inference.instructions import INSTRUCTIONS
    from inference.revision import revise_document
    from webapp.training.models import ModelVersion
    from webapp.writing import services
    from webapp.writing.models import EditProposal, Iteration

    user.documents.all().delete()
    text, title = (EMAIL_TEXT, EMAIL_TITLE) if email else (DOCUMENT_TEXT, DOCUMENT_TITLE)
    document = services.document_create(owner=user, text=text, title=title, max_depth=3)
    fix = INSTRUCTIONS["fix_grammar"]
    revision = revise_document(
        load_editor(str(settings.REDLINE_BUILTIN_MODEL)), document.current_text, fix.prompt, fix.intent
    )
    output, edits = revision.model_output, revision.edits
    version, _ = ModelVersion.objects.get_or_create(
        name="built-in editor", defaults={"base_model": str(settings.REDLINE_BUILTIN_MODEL)}
    )
    iteration = Iteration.objects.create(
        document=document,
        number=1,
        depth=1,
        status=Iteration.Status.REVIEW,
        instruction="fix_grammar",
        instruction_text="Fix grammatical errors in this sentence",
        text_before=document.current_text,
        model_output=output,
        model_version=version,
        created_by=user,
    )
    proposals = EditProposal.objects.bulk_create(
        EditProposal(
            iteration=iteration,
            index=i,
            action=e.action,
            start_char=e.start,
            end_char=e.end,
            before=e.before,
            after=e.after,
            intent=e.intent,
            score=e.score,
        )
        for i, e in enumerate(edits)
    )
    if email:
        return document
    # A writer rejects the edits to the heading (a heading wants no period) and accepts the
    # first fix in the body.
    heading_end = document.current_text.index("\n")
    in_heading = [p for p in proposals if p.start_char <= heading_end]
    in_body = [p for p in proposals if p.start_char > heading_end]
    for proposal in in_heading:
        services.proposal_decide(proposal=proposal, user=user, verdict="reject")
    if in_body:
        services.proposal_decide(proposal=in_body[0], user=user, verdict="accept")
    return document


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--email", action="store_true", help="an ordinary e-mail instead of the demo document")
    parser.add_argument("--out", help="default: docs/screenshot.png, or docs/screenshot-email.png with --email")
    args = parser.parse_args(argv)
    args.out = args.out or str(ROOT / "docs" / ("screenshot-email.png" if args.email else "screenshot.png"))

    database_url = django_setup(DATABASE_URL)
    from django.contrib.auth import get_user_model
    from playwright.sync_api import sync_playwright

    from webapp.accounts.roles import WRITER
    from webapp.accounts.services import user_create

    user = get_user_model().objects.filter(username=USERNAME).first() or user_create(
        username=USERNAME, password=PASSWORD, role=WRITER
    )
    document = round_in_review(user, email=args.email)
    port = free_port()
    server = start_gunicorn(port, database_url, 1, 2, Path(tempfile.mkdtemp()) / "gunicorn.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 760}, device_scale_factor=1)
            page.goto(f"http://127.0.0.1:{port}/accounts/login/")
            page.fill("#id_username", USERNAME)
            page.fill("#id_password", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.goto(f"http://127.0.0.1:{port}/documents/{document.pk}/")
            page.wait_for_selector("#redline .edit")
            page.locator("body").press("j")
            page.screenshot(path=args.out)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
