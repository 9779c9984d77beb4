"""``app.core.inserts``: new records written by one Core INSERT (``insert_new``), made without the ORM's
attribute events (``new_record``). What is written, and what the record then holds for the response,
must be what the session's own flush would have written and left on it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import create_sessionmaker
from app.core.inserts import insert_new, new_record
from app.models.person import Person

_VALUES: dict[str, Any] = {
    "created_by": "inserts-test",
    "given_name": "Amelia",
    "family_name": "Okafor-Jones",
    "date_of_birth": date(2016, 2, 29),
    "postcode": "LS1 4AP",
    "nhs_number": None,
}
# What the flush writes besides the values given: the columns' defaults.
_COLUMNS = [c.key for c in sa.inspect(Person).column_attrs if c.key not in ("id", "created_at", "updated_at")]


async def _stored(engine: AsyncEngine, person_id: uuid.UUID) -> dict[str, Any]:
    async with create_sessionmaker(engine)() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        return {key: getattr(person, key) for key in _COLUMNS}


async def test_a_new_record_is_written_as_the_flush_writes_it(engine: AsyncEngine) -> None:
    made = new_record(Person, id=uuid.uuid4(), **_VALUES)
    flushed = Person(id=uuid.uuid4(), **_VALUES)
    async with create_sessionmaker(engine)() as session:
        await insert_new(session, [made])
        session.add(flushed)
        await session.commit()

    assert await _stored(engine, made.id) == await _stored(engine, flushed.id)
    # The record holds what was written, defaults included, for the response to show.
    assert {key: getattr(made, key) for key in _COLUMNS} == await _stored(engine, made.id)
    assert made.version == 1
    assert made.created_at is not None
    assert sa.inspect(made).transient


async def test_several_records_in_one_statement(engine: AsyncEngine) -> None:
    people = [
        new_record(Person, id=uuid.uuid4(), **{**_VALUES, "given_name": name}) for name in ("Ada", "Bo", "Cy")
    ]
    async with create_sessionmaker(engine)() as session:
        await insert_new(session, people)
        await session.commit()
    assert [(await _stored(engine, p.id))["given_name"] for p in people] == ["Ada", "Bo", "Cy"]


def test_an_attribute_the_model_lacks_is_refused_as_the_constructor_refuses_it() -> None:
    with pytest.raises(TypeError, match="given_nme"):
        new_record(Person, id=uuid.uuid4(), given_nme="Amelia")
    with pytest.raises(TypeError, match="given_nme"):
        Person(id=uuid.uuid4(), given_nme="Amelia")


async def test_records_of_one_insert_must_set_the_same_attributes(engine: AsyncEngine) -> None:
    # One statement has one column list: a record leaving out a column another sets is refused, not
    # written with that column's default in its place.
    with_nhs = new_record(Person, id=uuid.uuid4(), **{**_VALUES, "nhs_number": "9434765919"})
    without = new_record(Person, id=uuid.uuid4(), **{k: v for k, v in _VALUES.items() if k != "nhs_number"})
    async with create_sessionmaker(engine)() as session:
        with pytest.raises(TypeError, match="same columns"):
            await insert_new(session, [with_nhs, without])
        await session.commit()
    async with create_sessionmaker(engine)() as session:
        found = await session.scalars(sa.select(Person.id).where(Person.id.in_([with_nhs.id, without.id])))
        assert found.all() == []


async def test_records_of_one_insert_must_be_of_one_model(engine: AsyncEngine) -> None:
    person = new_record(Person, id=uuid.uuid4(), **_VALUES)
    with pytest.raises(TypeError, match="one model"):
        async with create_sessionmaker(engine)() as session:
            await insert_new(session, [person, object()])  # type: ignore[list-item]
