"""Training and evaluation data for the built-in editor model, made offline.

`corpus` finds English sentences in the prose that ships with Python and the project's pinned
packages, `noise` corrupts them with one realistic error of a named type, `phrases` holds the
wordy->concise and informal->formal lists, and `examples` turns all of it into
("<instruction>: <input>", target) pairs. Everything is deterministic given a seed, and every
held-out split (sentences, misspellings, phrases) is decided by a hash, so it is the same on
every machine.
"""
