"""The base of every pydantic model in `ecrm`, and of every `TypeAdapter`: one place for what all
of them share.

`defer_build`: pydantic builds a model's validator and serializer (its core schema) on the
model's first use, not when the class is created. A function imports a capability's whole
`models` module but validates a handful of its classes; the rest were built at every cold start
for nothing (decision 92). Validation, error locations and JSON schemas are the same either way.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

DEFERRED = ConfigDict(defer_build=True)


class Model(BaseModel):
    """Subclass this, never `BaseModel`: a model's own `model_config` is merged with this one."""

    model_config = DEFERRED


def adapter(tp: Any) -> TypeAdapter[Any]:
    """A `TypeAdapter` for a type that is not a model (a union, an annotated scalar), built on its
    first use like the models. (A model needs none: validate with the model itself.)"""
    return TypeAdapter(tp, config=DEFERRED)
