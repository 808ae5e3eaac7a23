"""A time shown in the viewer's zone and locale, wrapping the local React component beside it."""

import reflex as rx


class LocalTime(rx.Component):
    library = "$/public" + rx.asset("local_time.jsx", shared=True)
    tag = "LocalTime"

    iso: rx.Var[str]
    # "time" for a bubble (15:45), "smart" for the chat list (15:45 / yesterday / Monday / 3/1/26),
    # "last_seen" for presence: one of the three sentences below with {time} and {date} filled.
    mode: rx.Var[str]
    today: rx.Var[str]
    yesterday: rx.Var[str]
    other: rx.Var[str]


local_time = LocalTime.create
