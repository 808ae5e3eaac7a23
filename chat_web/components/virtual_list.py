"""A virtualized list (react-virtuoso) whose rows are composed in Python like any component.

Only the rows near the viewport are in the DOM, so a chat with thousands of messages in the
window stays light. ``virtual_list(items, render_row)`` reads like ``rx.foreach``: ``render_row``
gets a Var for one item and returns a component, which becomes the JavaScript function
Virtuoso calls for each visible row. (Reflex cannot render an ``rx.foreach`` inside such a
function: put a list inside a row through an ``rx.memo`` component.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from reflex.event import EventHandler, no_args_event_spec
from reflex.vars.base import Var
from reflex.vars.function import ArgsFunctionOperation

VIRTUOSO = "react-virtuoso@4.18.21"


class Virtuoso(rx.Component):
    library = VIRTUOSO
    tag = "Virtuoso"

    data: rx.Var[list[Any]]
    item_content: rx.Var[Any]
    compute_item_key: rx.Var[Any]
    # The absolute index of the first item: lowered when rows are put above, so that the
    # rows the reader is looking at stay where they are.
    first_item_index: rx.Var[int]
    initial_top_most_item_index: rx.Var[Any]
    initial_scroll_top: rx.Var[int]
    follow_output: rx.Var[Any]
    align_to_bottom: rx.Var[bool]
    increase_viewport_by: rx.Var[Any]
    # Rows above the viewport are placed by this estimate until measured: close to a real row,
    # pages put above land where they belong instead of being corrected afterwards.
    default_item_height: rx.Var[int]
    components: rx.Var[Any]

    start_reached: EventHandler[no_args_event_spec]


def _row_function(item_type: type, render_row: Callable[[Var[Any]], rx.Component]) -> Var[Any]:
    """``(index, item) => <row/>``, with the row's imports and hooks carried along."""
    item = Var(_js_expr="item", _var_type=item_type).guess_type()
    return ArgsFunctionOperation.create(("index", "item"), Var.create(render_row(item)))


def _component_function(component: rx.Component) -> Var[Any]:
    return ArgsFunctionOperation.create((), Var.create(component))


def virtual_list(
    items: Var[list[Any]],
    item_type: type,
    render_row: Callable[[Var[Any]], rx.Component],
    *,
    key_field: str = "id",
    key_js: str = "",
    header: rx.Component | None = None,
    footer: rx.Component | None = None,
    **props: Any,
) -> rx.Component:
    """A Virtuoso over ``items``; rows are keyed by ``key_field`` so React keeps them (or by
    ``key_js``, a JavaScript expression of ``item``)."""
    components: dict[str, Var[Any]] = {}
    if header is not None:
        components["Header"] = _component_function(header)
    if footer is not None:
        components["Footer"] = _component_function(footer)
    return Virtuoso.create(
        data=items,
        item_content=_row_function(item_type, render_row),
        compute_item_key=Var(_js_expr=f"((index, item) => {key_js or 'item.' + key_field})"),
        components=Var.create(components) if components else None,
        **props,
    )
