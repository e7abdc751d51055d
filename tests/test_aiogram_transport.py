"""The aiogram transport's own concerns (the end-to-end tests cover what it sends)."""

from __future__ import annotations

import gc
import weakref

from aiogram.methods.base import Response

from bot.aiogram_transport import _METHODS


def test_the_classes_answers_are_read_with_outlive_a_garbage_collection() -> None:
    """aiogram reads each answer as ``Response[method.__returning__]``, a class pydantic keeps
    only weakly: freed by a collection, it would be rebuilt on the next send (milliseconds).
    Built here inside a function, as aiogram does: at module level pydantic would also keep
    a reference in the module's namespace."""
    refs = {method.__name__: weakref.ref(Response[method.__returning__]) for method in _METHODS}  # type: ignore[name-defined]
    gc.collect()
    assert {name for name, ref in refs.items() if ref() is None} == set()
