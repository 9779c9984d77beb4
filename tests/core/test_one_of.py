"""``one_of(column, name)``: a column among a list given at execution. The loaders of many parents'
records (``app.core.grouped.ByParent``) and person matching select with it; on PostgreSQL it is one
array parameter, so a statement's text does not change with the number of values."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.core.db import create_engine
from app.core.grouped import one_of
from tests.conftest import make_settings

_PROBES = sa.Table(
    "one_of_probes",
    sa.MetaData(),
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("ref", sa.Uuid, nullable=False),
    prefixes=["TEMPORARY"],  # the application's role creates nothing else
)
_REFS = [uuid.uuid4() for _ in range(5)]
_AMONG = sa.select(_PROBES.c.n).where(one_of(_PROBES.c.ref, "refs")).order_by(_PROBES.c.n)
_NOT_AMONG = sa.select(_PROBES.c.n).where(~one_of(_PROBES.c.ref, "refs")).order_by(_PROBES.c.n)


async def test_a_column_among_lists_of_any_length_one_statement_text_on_postgresql(database_url: str) -> None:
    engine = create_engine(make_settings(database_url))
    sent: list[str] = []
    sa.event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_PROBES.metadata.create_all)
            await conn.execute(sa.insert(_PROBES), [{"n": n, "ref": ref} for n, ref in enumerate(_REFS)])
            sent.clear()
            found = {
                size: (await conn.execute(_AMONG, {"refs": _REFS[:size]})).scalars().all()
                for size in (0, 1, 3, 5)
            }
            others = (await conn.execute(_NOT_AMONG, {"refs": _REFS[1:4]})).scalars().all()
            none_left_out = (await conn.execute(_NOT_AMONG, {"refs": []})).scalars().all()
    finally:
        await engine.dispose()

    assert found == {0: [], 1: [0], 3: [0, 1, 2], 5: [0, 1, 2, 3, 4]}
    assert others == [0, 4]
    assert none_left_out == [0, 1, 2, 3, 4]
    lists_of_any_length = sent[:4]
    if engine.dialect.name == "postgresql":
        assert len(set(lists_of_any_length)) == 1, lists_of_any_length
    else:
        assert len(set(lists_of_any_length)) == 4, lists_of_any_length
