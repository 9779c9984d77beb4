"""Webhooks: partner systems' subscriptions to the change feed, delivered by ``mash worker``, signed as
Standard Webhooks, retried with backoff, to destinations on public addresses only."""
