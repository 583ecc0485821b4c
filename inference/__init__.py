"""Models, generation, diffing, decoding, training and the sandbox. Imports no Django.

Modules that need torch import it inside the functions that use it, so that the web
process can use the pure-Python parts (instructions, diffing) without loading torch.
"""
