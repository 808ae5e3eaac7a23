"""What replies, reactions, edits, tombstones and links become in the browser (issue #7), and
how the open window takes a changed message in."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from backend.models import Message, Quote, Reaction, Receipts
from chat_web import message_window as window
from chat_web.views import TextPart, Viewer, message_view, text_parts

AT = datetime(2026, 1, 1, tzinfo=UTC)
BOB = Viewer("bob", {"alice": "Alice", "bob": "Bob", "carol": "Carol"})


def view_of(**fields: object):
    message = Message("m1", "c1", "alice", {"type": "text", "text": "hello"}, AT)
    return message_view(dataclasses.replace(message, **fields), BOB, Receipts())


def test_links_are_cut_out_only_for_http_https_and_mailto():
    assert text_parts("no links here") == []
    assert text_parts("see https://a.example/x?y=1, or mailto:me@a.example.") == [
        TextPart("see "),
        TextPart("https://a.example/x?y=1", href="https://a.example/x?y=1"),
        TextPart(", or "),
        TextPart("mailto:me@a.example", href="mailto:me@a.example"),
        TextPart("."),
    ]
    # Other schemes, and look-alikes, stay plain text.
    for text in ("javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://a.example", "xhttps://a"):
        assert all(not p.href for p in text_parts(text)), text
    assert view_of(content={"type": "text", "text": "<b>https://a.example</b>"}).parts == [
        TextPart("<b>"),
        TextPart("https://a.example", href="https://a.example"),
        TextPart("</b>"),
    ]


def test_reactions_are_grouped_with_counts_and_who():
    view = view_of(
        reactions=(Reaction("alice", "👍"), Reaction("bob", "❤️"), Reaction("carol", "👍"))
    )
    assert [(r.emoji, r.count, r.mine) for r in view.reactions] == [
        ("👍", 2, False),
        ("❤️", 1, True),
    ]
    assert view.reactions[0].label == "👍 Alice and Carol"
    assert view.reactions[1].label == "❤️ You"


def test_a_reply_quotes_its_original_and_a_deleted_one_says_so():
    reply = view_of(quote=Quote("m0", "bob", "the plan"))
    assert (reply.reply_id, reply.quote_sender, reply.quote_text) == ("m0", "You", "the plan")
    gone = view_of(quote=Quote("m0", "carol", "", deleted=True))
    assert (gone.quote_sender, gone.quote_text) == ("Carol", "This message was deleted")


def test_edited_forwarded_and_deleted_messages_are_marked():
    assert view_of(edited_at=AT, forwarded=True).edited
    assert view_of(forwarded=True).forwarded
    tombstone = view_of(content={"type": "deleted"}, deleted_at=AT, edited_at=AT)
    assert (tombstone.deleted, tombstone.edited) == (True, False)
    assert tombstone.text == "This message was deleted"
    assert tombstone.parts == []


def test_a_changed_message_replaces_its_twin_and_keeps_the_viewers_star():
    first = dataclasses.replace(view_of(), starred=True, day_label="Today")
    other = dataclasses.replace(view_of(), id="m2")
    edited = view_of(content={"type": "text", "text": "hello again"}, edited_at=AT)
    updated = window.with_update([first, other], edited)
    assert updated is not None
    assert (updated[0].text, updated[0].starred, updated[0].day_label) == (
        "hello again",
        True,
        "Today",
    )
    assert updated[1] is other  # untouched messages stay the same objects (not resent)
    assert window.with_update([other], edited) is None  # not in the window: nothing to do


def test_an_edit_in_the_history_part_of_the_window_reaches_the_browser():
    history = [dataclasses.replace(view_of(), id=f"m{i}") for i in range(5)]
    changed = [*history[:2], dataclasses.replace(history[2], text="edited"), *history[3:]]
    placed = window.place(history, changed)
    assert placed.history_changed and placed.history[2].text == "edited"
    # An arrival after an unchanged history still only resends the recent tail.
    arrival = dataclasses.replace(view_of(), id="m9")
    placed = window.place(history, [*history, arrival])
    assert not placed.history_changed and placed.recent == [arrival]


def test_hiding_and_starring_change_only_that_message():
    a, b = view_of(), dataclasses.replace(view_of(), id="m2")
    assert window.without([a, b], "m1") == [b]
    starred = window.with_star([a, b], "m2", True)
    assert starred[0] is a and starred[1].starred
    assert window.with_star(starred, "m2", True)[1] is starred[1]
