"""What the writing screens and the API say of a document: where its R3 loop stands, in words."""

from dataclasses import dataclass

from webapp.writing.models import Document, Iteration


@dataclass(frozen=True)
class LoopState:
    """Where the document's R3 loop stands, in words the page shows."""

    code: str  # idle, running, review, converged, max_depth, failed
    message: str
    depth: int
    can_suggest: bool


def document_loop_state(document: Document, last: Iteration | None) -> LoopState:
    last_model = None
    if last is not None and last.source == Iteration.Source.MODEL:
        last_model = last
    depth = last.depth if last else 0
    if last is None:
        return LoopState("idle", "No suggestions yet.", 0, True)
    if last.status in (Iteration.Status.QUEUED, Iteration.Status.GENERATING):
        return LoopState("running", "The model is revising the text.", depth, False)
    if last.status == Iteration.Status.REVIEW:
        return LoopState("review", "Decide on each edit, then apply.", depth, False)
    if last.status == Iteration.Status.FAILED:
        return LoopState("failed", f"The last round failed: {last.error}", depth, True)
    if depth >= document.max_depth:
        return LoopState(
            "max_depth", f"Maximum depth reached ({document.max_depth} rounds); the loop is done.", depth, False
        )
    if last_model is not None and not last_model.proposals.exists():
        return LoopState("converged", "The model proposed no further edits; the loop is done.", depth, True)
    return LoopState("idle", "Ready for another round.", depth, True)
