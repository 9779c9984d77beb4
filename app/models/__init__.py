"""SQLAlchemy models, one module per aggregate: import a model from its module.

Importing this package (as importing any of its modules does) maps every model on ``Base.metadata``,
which Alembic and the tests compare with the migrations.
"""

from app.models import (  # noqa: F401  (imported to map their models)
    adult,
    agency,
    audit,
    client,
    disclosure,
    document,
    event,
    idempotency,
    person,
    protection,
    ratelimit,
    referral,
    retention,
    settings,
    webhook,
)
from app.models.base import Base
from app.models.client import Client

__all__ = ["Base", "Client"]
