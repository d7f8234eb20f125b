"""The Gateway: payloads posted to a gateway collection's endpoint become artifacts in the target
collection of every running Gateway integration that listens to it.

Two steps, so that the sender gets its answer fast and nothing it was told is accepted is lost:

1. ``receive`` (the endpoint, ``intake``): token, availability, size, rate and JSON checks, then the
   payload is stored as a ``GatewayPayload`` before the 202 is sent.
2. ``process_due`` (the workers, ``work``): each received payload is transformed (the collection's
   payload transformation extension, or the payload itself when it is model-shaped) and, in the same
   transaction, becomes one pending activity per artifact and listening integration. Activities are
   then claimed, written to the target and completed or failed and retried like any sync's.
"""
