"""The HTTP server: Pendo's ``/api/v1`` paths routed onto the subscription and the engine.

``http_server`` routes requests and writes answers; ``reports``, ``history`` and ``writes`` compute
the answers of those endpoints; ``faults`` makes the server misbehave on purpose (off by default).
"""
