"""The synthetic subscription: what it holds (``model``) and how it is generated (``generate``).

``generate.generate(seed, size, now, timezone)`` puts together the parts the other modules build:
the product catalog, the people, the raw events, the guide and poll events, the saved reports and
segments, and the metadata schema. Everything is deterministic from the seed.
"""
