"""What the app tells people about a model it ships: `redline_card.json` beside the weights.

A card says, in plain words, what the model is and what it was measured to do, so that the
review page and the Versions page can be honest about a small offline model: it is not a
general-purpose editor, and a real one can be configured (README, "Using a real model").

    {"title": "...", "summary": "...", "figures": [["label", "value"], ...], "measured_with": "command"}

Models without a card (any Hugging Face id, any other directory) show nothing extra.
"""

import json
from pathlib import Path
from typing import Any

CARD_FILE = "redline_card.json"
CONFIGURE_HELP = (
    "To use a real model, set REDLINE_MODEL (the editor) or REDLINE_CODE_MODEL (the code model) to a "
    'Hugging Face id or a local directory and restart; the README\'s "Using a real model" says more.'
)


def read_model_card(model: str) -> dict[str, Any] | None:
    """The card of a local model directory, or None (no directory, no card, or a card that is not
    what this module writes: a broken card must not break a page)."""
    try:
        path = Path(model) / CARD_FILE
        if not path.is_file():
            return None
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(card, dict) or not all(isinstance(card.get(k), str) for k in ("title", "summary")):
        return None
    figures = card.get("figures", [])
    if not isinstance(figures, list) or not all(
        isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) for x in f) for f in figures
    ):
        figures = []
    return {
        "title": card["title"],
        "summary": card["summary"],
        "figures": [tuple(f) for f in figures],
        "measured_with": card.get("measured_with") if isinstance(card.get("measured_with"), str) else "",
        "configure_help": CONFIGURE_HELP,
    }


def write_model_card(
    model_dir: str | Path, title: str, summary: str, figures: list[tuple[str, str]], measured_with: str = ""
) -> Path:
    path = Path(model_dir) / CARD_FILE
    path.write_text(
        json.dumps(
            {"title": title, "summary": summary, "figures": [list(f) for f in figures], "measured_with": measured_with},
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return path
