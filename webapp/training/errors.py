class TrainingRequestError(ValueError):
    """A request the training screens or API cannot carry out; the message says why, for the admin."""
