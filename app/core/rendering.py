"""Rendering a record as a response model: the fields named as the record's attributes are copied,
so a view spells out only what it computes, hides or renames."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)


def from_record(model: type[Model], record: object, **values: Any) -> Model:
    """``model`` with each field from ``values`` when given there, else from ``record``'s attribute of
    the same name; a field neither gives keeps its default."""
    fields = {
        name: values[name] if name in values else getattr(record, name)
        for name in model.model_fields
        if name in values or hasattr(record, name)
    }
    return model.model_validate(fields)
