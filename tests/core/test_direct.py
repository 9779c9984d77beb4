"""``app.core.direct``: hot statements run by asyncpg itself on the session's own connection on
PostgreSQL, and through the session elsewhere. ``DirectSelect`` reads plain columns (the loaders of many
parents' records, ``app.core.grouped.ByParent``, read through it); ``DirectWrite`` inserts rows (a
referral and its children, new people, the audit's staging) and updates them (an answered request). Whatever they return, write or raise must be
what the session's own ``execute`` would have returned, written or raised."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.db import create_engine, create_sessionmaker
from app.core.direct import DirectSelect, DirectWrite
from app.core.errors import is_database_busy, is_database_outage, sqlstate
from app.core.grouped import one_of
from app.models.base import UTCDateTime
from tests.conftest import make_settings


class _Base(DeclarativeBase):
    pass


class _Probe(_Base):
    __tablename__ = "direct_probes"
    __table_args__ = {"prefixes": ["TEMPORARY"]}  # the application's role creates nothing else

    n: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    born: Mapped[date | None] = mapped_column(sa.Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    kind: Mapped[str] = mapped_column(sa.String(20))
    flag: Mapped[bool | None] = mapped_column(sa.Boolean)
    origin: Mapped[str] = mapped_column(sa.String(20), default="probe")  # a Python default


_TABLE = cast(sa.Table, _Probe.__table__)  # as app.models.base.table_of types it
_COLUMNS = _TABLE.c
_REFS = [uuid.uuid4() for _ in range(4)]
_AT = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night the clocks went forward
# Every kind of value the application's tables hold, a literal ("hidden") and a parameter with a type
# that processes it (UTCDateTime), a list of any length.
_READ = (
    sa.select(
        _COLUMNS.ref, _COLUMNS.born, _COLUMNS.at, _COLUMNS.data, _COLUMNS.kind, _COLUMNS.flag, _COLUMNS.n
    )
    .where(
        one_of(_COLUMNS.ref, "refs"),
        _COLUMNS.kind != "hidden",
        _COLUMNS.at < sa.bindparam("before", type_=UTCDateTime()),
    )
    .order_by(_COLUMNS.n)
)


async def _with_probes(session: AsyncSession) -> None:
    connection = await session.connection()
    await connection.run_sync(_Base.metadata.create_all)
    session.add_all(
        [
            _Probe(
                n=0,
                ref=_REFS[0],
                born=date(2019, 2, 28),
                at=_AT,
                data={"a": [1, "b"]},
                kind="shown",
                flag=True,
            ),
            _Probe(
                n=1, ref=_REFS[1], born=None, at=_AT + timedelta(hours=1), data=None, kind="shown", flag=None
            ),
            _Probe(n=2, ref=_REFS[2], born=date(2020, 1, 1), at=_AT, data={}, kind="hidden", flag=False),
            _Probe(
                n=3, ref=_REFS[3], born=date(2021, 6, 1), at=_AT + timedelta(days=9), data=[], kind="shown"
            ),
        ]
    )
    await session.flush()


async def test_the_rows_are_the_sessions_own(engine: AsyncEngine) -> None:
    read = DirectSelect(_READ)
    async with create_sessionmaker(engine)() as session:
        await _with_probes(session)
        for params in (
            {"refs": _REFS, "before": _AT + timedelta(days=1)},
            {"refs": _REFS[:1], "before": _AT + timedelta(days=1)},
            {"refs": [], "before": _AT + timedelta(days=1)},
            {"refs": _REFS, "before": _AT},
        ):
            direct = [tuple(row) for row in await read.rows(session, params)]
            session_s = [tuple(row) for row in (await session.execute(_READ, params)).all()]
            assert direct == session_s, params
        everything = await read.rows(session, {"refs": _REFS, "before": _AT + timedelta(days=30)})

    assert [row[-1] for row in everything] == [0, 1, 3]  # "hidden" is the statement's literal
    first = tuple(everything[0])
    assert first[:6] == (_REFS[0], date(2019, 2, 28), _AT, {"a": [1, "b"]}, "shown", True)
    assert first[2].tzinfo is not None and first[2].utcoffset() == timedelta(0)
    assert [row[3] for row in everything] == [{"a": [1, "b"]}, None, []]


async def test_a_pending_change_is_flushed_first_and_seen(engine: AsyncEngine) -> None:
    read = DirectSelect(sa.select(_COLUMNS.n, _COLUMNS.kind).where(_COLUMNS.kind == sa.bindparam("kind")))
    async with create_sessionmaker(engine)() as session:
        await _with_probes(session)
        session.add(_Probe(n=9, ref=uuid.uuid4(), at=_AT, kind="new"))
        probe = await session.get(_Probe, 0)
        assert probe is not None
        probe.kind = "new"
        found = await read.rows(session, {"kind": "new"})
    assert sorted(tuple(row) for row in found) == [(0, "new"), (9, "new")]


def test_orm_records_and_numbers_processed_by_the_drivers_type_are_refused() -> None:
    with pytest.raises(TypeError, match="ORM records"):
        DirectSelect(sa.select(_COLUMNS.n, _Probe))
    with pytest.raises(TypeError, match="numeric"):
        DirectSelect(sa.select(_COLUMNS.n / 2))


async def test_statement_watchers_see_it(engine: AsyncEngine) -> None:
    # The tests' statement counts and bench.profile_request --statements listen for SQLAlchemy's event.
    sent: list[str] = []
    sa.event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    async with create_sessionmaker(engine)() as session:
        await _with_probes(session)
        sent.clear()
        await DirectSelect(_READ).rows(session, {"refs": _REFS, "before": _AT})
    assert len(sent) == 1
    assert "direct_probes" in sent[0]


async def _raised(
    engine: AsyncEngine, stmt: sa.Select[Any], params: dict[str, Any], direct: bool
) -> Exception:
    async with create_sessionmaker(engine)() as session:
        await session.execute(sa.text("SELECT 1"))
        if engine.dialect.name == "postgresql":
            await session.execute(sa.text("SET LOCAL statement_timeout = 100"))
        try:
            if direct:
                await DirectSelect(stmt).rows(session, params)
            else:
                await session.execute(stmt, params)
        except Exception as exc:
            return exc
    raise AssertionError("nothing was raised")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("stmt", "params"),
    [
        (sa.select(sa.literal(1, sa.Integer) // sa.bindparam("zero", type_=sa.Integer)), {"zero": 0}),
        (sa.select(sa.func.pg_sleep(sa.bindparam("seconds", type_=sa.Float))), {"seconds": 2}),
    ],
    ids=["division_by_zero", "statement_timeout"],
)
async def test_the_servers_refusal_is_raised_as_sqlalchemy_raises_it(
    engine: AsyncEngine, stmt: sa.Select[Any], params: dict[str, Any]
) -> None:
    direct = await _raised(engine, stmt, params, direct=True)
    own = await _raised(engine, stmt, params, direct=False)
    assert type(direct) is type(own)
    assert isinstance(direct, sa_exc.DBAPIError)
    assert sqlstate(direct) == sqlstate(own) is not None
    assert is_database_busy(direct) == is_database_busy(own)
    assert not is_database_outage(direct)


@pytest.mark.postgres
async def test_a_lost_connection_is_an_outage_and_the_pool_lends_none_of_its_lost_connections(
    engine: AsyncEngine, database_url: str
) -> None:
    read = DirectSelect(sa.select(sa.literal(1, sa.Integer).label("one")))
    sessions = create_sessionmaker(engine)
    async with sessions() as first, sessions() as second:  # two connections, back in the pool after
        pids = [(await s.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one() for s in (first, second)]
    closer = create_engine(make_settings(database_url))  # a pool of its own: as a server restart would
    try:
        async with closer.connect() as connection:
            for pid in pids:
                await connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await closer.dispose()

    async with sessions() as session:
        with pytest.raises(sa_exc.DBAPIError) as raised:
            await read.rows(session, {})
        assert raised.value.connection_invalidated
        assert is_database_outage(raised.value)
        # As after SQLAlchemy's own: the rollback forgets the lost connection, the next begins on another.
        await session.rollback()
        assert [tuple(row) for row in await read.rows(session, {})] == [(1,)]
    # The other lost connection is not lent again either: the whole pool was invalidated.
    async with sessions() as session:
        assert [tuple(row) for row in await read.rows(session, {})] == [(1,)]


# ---------------------------------------------------------------------------------------------------
# DirectWrite

_INSERT = DirectWrite(sa.insert(_TABLE))


def _written(n: int, **values: Any) -> dict[str, Any]:
    return {"n": n, "ref": uuid.uuid4(), "at": _AT, "kind": "written", "origin": "direct", **values}


async def _all(session: AsyncSession) -> list[tuple[Any, ...]]:
    rows = await session.execute(sa.select(*_COLUMNS).order_by(_COLUMNS.n))
    return [tuple(row) for row in rows]


async def test_written_rows_read_back_as_the_sessions_own_insert_writes_them(engine: AsyncEngine) -> None:
    # One row (asyncpg's execute), then several (its executemany), then the same through the session.
    one = _written(0, born=date(2019, 2, 28), data={"a": [1, "b"]}, flag=True)
    several = [
        _written(1, born=None, data=None, flag=None),
        _written(2, born=date(2020, 1, 1), data=[], flag=False),
    ]
    async with create_sessionmaker(engine)() as session:
        await _with_probes(session)
        await session.execute(sa.delete(_TABLE))
        await _INSERT.execute(session, one)
        await _INSERT.execute(session, several)
        await _INSERT.execute(session, [])  # nothing to write: no statement
        direct = await _all(session)
        await session.execute(sa.delete(_TABLE))
        await session.execute(sa.insert(_TABLE), one)
        await session.execute(sa.insert(_TABLE), several)
        own = await _all(session)

    assert direct == own
    assert [row[0] for row in direct] == [0, 1, 2]
    assert direct[0][3] == _AT and direct[0][4] == {"a": [1, "b"]}
    assert direct[0][-1] == "direct"
    assert [row[4] for row in direct[1:]] == [None, []]


_UPDATE = DirectWrite(sa.update(_TABLE).where(_COLUMNS.n == sa.bindparam("probe")))


async def test_an_update_writes_the_columns_its_rows_name_as_the_sessions_update_writes_them(
    engine: AsyncEngine,
) -> None:
    # The row of the WHERE's key gets the named columns' values, typed as the session types them; the
    # other rows, and the columns not named, stay as they were.
    change = {"probe": 1, "at": _AT + timedelta(days=2), "data": {"seen": [True]}, "flag": False}
    async with create_sessionmaker(engine)() as session:
        await _with_probes(session)
        before = await _all(session)
        await _UPDATE.execute(session, change)
        direct = await _all(session)
        await session.rollback()
        await _with_probes(session)
        await session.execute(sa.update(_TABLE).where(_COLUMNS.n == sa.bindparam("probe")), change)
        own = await _all(session)

    assert direct == own
    assert direct[0] == before[0] and direct[2:] == before[2:]
    assert direct[1][:3] == before[1][:3] and direct[1][5] == before[1][5]  # n, ref, born; kind
    assert (direct[1][3], direct[1][4], direct[1][6]) == (_AT + timedelta(days=2), {"seen": [True]}, False)


@pytest.mark.postgres  # unnest of array parameters: the audit's staging, PostgreSQL only
async def test_a_text_statement_with_list_parameters(engine: AsyncEngine) -> None:
    write = DirectWrite(
        sa.text(
            "INSERT INTO direct_probes (n, ref, at, kind, origin) "
            "SELECT t.n, t.ref, :at, 'unnested', 'text' FROM unnest(CAST(:ns AS INTEGER[]), "
            "CAST(:refs AS UUID[])) AS t(n, ref)"
        )
    )
    async with create_sessionmaker(engine)() as session:
        await _with_probes(session)
        await write.execute(session, {"ns": [10, 11], "refs": _REFS[:2], "at": _AT})
        found = await session.execute(
            sa.select(_COLUMNS.n, _COLUMNS.ref).where(_COLUMNS.kind == "unnested").order_by(_COLUMNS.n)
        )
    assert [tuple(row) for row in found] == [(10, _REFS[0]), (11, _REFS[1])]


async def test_a_column_with_a_python_default_left_unset_is_refused(engine: AsyncEngine) -> None:
    # The session would compute the default; DirectWrite leaves that to its caller (app.core.inserts).
    async with create_sessionmaker(engine)() as session:
        await _with_probes(session)
        row = _written(5)
        del row["origin"]
        if engine.dialect.name == "postgresql":
            with pytest.raises(TypeError, match="origin"):
                await _INSERT.execute(session, row)
        with pytest.raises(TypeError, match="same columns"):
            await _INSERT.execute(session, [_written(6), {**_written(7), "flag": True}])
        assert [row[0] for row in await _all(session)] == [0, 1, 2, 3]  # nothing written


async def test_a_conflict_is_raised_as_the_sessions_insert_raises_it(engine: AsyncEngine) -> None:
    raised = []
    for direct in (True, False):
        async with create_sessionmaker(engine)() as session:
            await _with_probes(session)
            try:
                if direct:
                    await _INSERT.execute(session, [_written(7), _written(0)])  # n 0 is taken
                else:
                    await session.execute(sa.insert(_TABLE), [_written(7), _written(0)])
            except sa_exc.DBAPIError as exc:
                raised.append(exc)
    direct_error, own_error = raised
    assert type(direct_error) is type(own_error) is sa_exc.IntegrityError
    assert sqlstate(direct_error) == sqlstate(own_error)


async def test_statement_watchers_see_each_write_once(engine: AsyncEngine) -> None:
    sent: list[tuple[str, bool]] = []
    sa.event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: sent.append((args[2], args[5]))
    )
    async with create_sessionmaker(engine)() as session:
        await _with_probes(session)
        sent.clear()
        await _INSERT.execute(session, _written(7))
        await _INSERT.execute(session, [_written(8), _written(9)])
    assert [many for _, many in sent] == [False, True]
    assert all(sql.startswith("INSERT INTO direct_probes") for sql, _ in sent)


@pytest.mark.postgres
async def test_each_statement_runs_in_the_sessions_transaction_of_the_moment(engine: AsyncEngine) -> None:
    # The connection is kept for the transaction it was asked for; after a commit or a rollback the
    # next statement begins the session's next transaction, as the session's own execute would.
    read = DirectSelect(
        sa.select(
            sa.func.txid_current(type_=sa.BigInteger).label("tx"),
            sa.func.pg_backend_pid(type_=sa.Integer).label("pid"),
        )
    )
    transactions = []
    async with create_sessionmaker(engine)() as session:
        for end in (session.commit, session.rollback, session.commit):
            first = tuple((await read.rows(session, {}))[0])
            again = tuple((await read.rows(session, {}))[0])
            own = tuple((await session.execute(read.stmt)).one())
            assert first == again == own
            transactions.append(first[0])
            await end()
    assert len(set(transactions)) == 3


async def test_after_a_failed_flush_it_refuses_as_the_session_refuses(engine: AsyncEngine) -> None:
    async with create_sessionmaker(engine)() as session:
        await _with_probes(session)
        await _INSERT.execute(session, _written(20))  # the connection now kept for this transaction
        session.add(_Probe(n=0, ref=uuid.uuid4(), at=_AT, kind="again"))  # n=0 is taken
        with pytest.raises(sa_exc.IntegrityError):
            await session.flush()
        with pytest.raises(sa_exc.PendingRollbackError):
            await _INSERT.execute(session, _written(21))
        with pytest.raises(sa_exc.PendingRollbackError):
            await session.execute(sa.insert(_TABLE), _written(21))
