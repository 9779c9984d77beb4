"""The partner change feed, GET /v1/events: the case events outbox, read in commit order, each event
filtered by who may see it and shaped to what they may see (``rules.FEED``)."""
