"""The Explore page's own state in the session, by name and type, in one place: what was
picked, the endpoints, the decoded empty-space point, the last click handled and the slow map
the user stopped. Widgets keep their state under their ``key``; this is the rest.

Each field is stored under its own name in ``st.session_state`` (``picks.item`` is
``st.session_state["item"]``), so a test or a callback can still set it directly."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import streamlit as st

T = TypeVar("T")


class _Field(Generic[T]):
    """One value of the session, None until set."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = name

    def __get__(self, obj: object, owner: type | None = None) -> T | None:
        return st.session_state.get(self.key)

    def __set__(self, obj: object, value: T | None) -> None:
        st.session_state[self.key] = value


class ExploreState:
    item = _Field[int]()  # the inspected item's index
    a = _Field[int]()  # interpolation endpoints, by index
    b = _Field[int]()
    probe = _Field[tuple[float, float]]()  # a decoded point of empty map space
    last_click = _Field[tuple[Any, ...]]()  # the selection already handled (Streamlit repeats it)
    stopped_map = _Field[tuple[Any, ...]]()  # (model, config) of the slow map this session stopped

    def restored(self, name: str) -> bool:
        """Whether ``name`` has been set in this session (from a link or a click)."""
        return name in st.session_state


picks = ExploreState()
