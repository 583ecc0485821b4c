"""The card of the model a version runs (inference.model_card), for the pages that name it."""

from inference.model_card import read_model_card


def model_card_for(version) -> dict | None:
    """The card of `version`'s base model when it runs those weights as shipped (no adapter on
    top): the built-in editor and code model carry one; anything else gives None."""
    if version is None or version.adapter_path:
        return None
    return read_model_card(version.base_model)
