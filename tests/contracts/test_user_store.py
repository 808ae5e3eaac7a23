"""The UserStore and SessionStore contracts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.adapters.sql.accounts import SqlSessionStore, SqlUserStore
from backend.errors import Conflict
from tests.contracts.conftest import NOW, make_user


def test_a_user_is_found_by_username_with_their_hash(user_store: SqlUserStore) -> None:
    alice = make_user(user_store, "alice", "Alice Liddell")
    assert user_store.find_credentials("alice") == (alice, "hash-of-alice")
    assert user_store.find_credentials("nobody") is None


def test_a_taken_username_is_a_conflict(user_store: SqlUserStore) -> None:
    make_user(user_store, "alice")
    with pytest.raises(Conflict):
        make_user(user_store, "alice")
    # the store still works after the refused insert (PostgreSQL aborts the transaction)
    assert make_user(user_store, "alice2").username == "alice2"


def test_get_users_returns_only_those_that_exist(user_store: SqlUserStore) -> None:
    alice, bob = make_user(user_store, "alice"), make_user(user_store, "bob")
    missing = "00000000-0000-4000-8000-000000000000"
    assert user_store.get_users([alice.id, bob.id, missing, alice.id]) == {
        alice.id: alice,
        bob.id: bob,
    }
    assert user_store.get_users([]) == {}


def test_password_and_display_name_changes_are_kept(user_store: SqlUserStore) -> None:
    alice = make_user(user_store, "alice", "Alice")
    user_store.set_password_hash(alice.id, "new-hash")
    user_store.set_display_name(alice.id, "Alice Cooper")
    user, password_hash = user_store.find_credentials("alice") or (None, "")
    assert password_hash == "new-hash"
    assert user is not None and user.display_name == "Alice Cooper"
    assert [u.username for u in user_store.search_users("cooper", 10)] == ["alice"]


def test_search_matches_username_prefixes_and_display_name_parts(
    user_store: SqlUserStore,
) -> None:
    make_user(user_store, "alice", "Alice Liddell")
    make_user(user_store, "alfred", "Alfred Pennyworth")
    make_user(user_store, "bob", "Bob ALBERTSON")
    make_user(user_store, "carol", "Carol Danvers")
    make_user(user_store, "quixyz", "Someone Else")

    assert [u.username for u in user_store.search_users("al", 10)] == ["alfred", "alice", "bob"]
    assert [u.username for u in user_store.search_users("LIDDELL", 10)] == ["alice"]
    assert [u.username for u in user_store.search_users("xyz", 10)] == []  # not a prefix
    assert [u.username for u in user_store.search_users("al", 2)] == ["alfred", "alice"]


def test_search_treats_wildcards_as_text(user_store: SqlUserStore) -> None:
    make_user(user_store, "under_score", "Fifty% Off")
    make_user(user_store, "underxscore", "Fifty Percent")
    assert [u.username for u in user_store.search_users("under_", 10)] == ["under_score"]
    assert [u.username for u in user_store.search_users("50%", 10)] == []
    assert [u.username for u in user_store.search_users("y%", 10)] == ["under_score"]


def test_search_folds_case_beyond_ascii(user_store: SqlUserStore) -> None:
    make_user(user_store, "strasse", "Große Straße")
    assert [u.username for u in user_store.search_users("STRASSE", 10)] == ["strasse"]


def test_a_session_is_stored_and_revoked(
    user_store: SqlUserStore, session_store: SqlSessionStore
) -> None:
    alice = make_user(user_store, "alice")
    expires = NOW + timedelta(days=30)
    session_store.add_session("h" * 64, alice.id, NOW, expires)

    found = session_store.get_session("h" * 64)
    assert found is not None and (found.user_id, found.revoked) == (alice.id, False)
    assert found.expires_at == expires and found.expires_at.tzinfo is not None

    session_store.revoke_session("h" * 64, NOW + timedelta(hours=1))
    revoked = session_store.get_session("h" * 64)
    assert revoked is not None and revoked.revoked
    assert session_store.get_session("x" * 64) is None
