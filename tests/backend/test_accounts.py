"""Accounts: signing up, signing in (with rate limits), sessions and finding people."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest

from backend.container import Services, build_services
from backend.errors import Conflict, InvalidInput, RateLimited, Unauthenticated
from backend.services.accounts import hash_token
from backend.settings import Settings
from tests.backend.conftest import Register
from tests.backend.helpers import PASSWORD, Person
from tests.conftest import FAST_HASH, FakeClock

IP = "198.51.100.7"
OTHER_IP = "203.0.113.9"
WINDOW = 15 * 60


def usernames(users: list) -> list[str]:
    return [u.username for u in users]


# --- signing up ----------------------------------------------------------------------------


def test_register_normalises_username_and_collapses_display_name(services: Services) -> None:
    user, token = services.accounts.register("  Alice.Smith_1 ", "  Alice \t Smith\n ", PASSWORD)

    assert user.username == "alice.smith_1"
    assert user.display_name == "Alice Smith"
    # the sign-up token is a live session for the new user
    assert services.accounts.authenticate(token) == user
    # and she can sign in typing her name in any case
    again, _ = services.accounts.login("ALICE.SMITH_1", PASSWORD, IP)
    assert again == user


def test_display_name_is_stored_in_nfc(services: Services) -> None:
    decomposed = unicodedata.normalize("NFD", "Zoë Ångström")
    user, _ = services.accounts.register("zoe", decomposed, PASSWORD)
    assert user.display_name == unicodedata.normalize("NFC", "Zoë Ångström")
    assert services.accounts.get_user(user.id).display_name == user.display_name


@pytest.mark.parametrize(
    ("username", "display_name", "password", "field"),
    [
        pytest.param("al", "Al", PASSWORD, "username", id="username-too-short"),
        pytest.param("a" * 33, "A", PASSWORD, "username", id="username-too-long"),
        pytest.param("al ice", "Al", PASSWORD, "username", id="username-space"),
        pytest.param("alice!", "Al", PASSWORD, "username", id="username-bang"),
        pytest.param("al-ice", "Al", PASSWORD, "username", id="username-dash"),
        pytest.param("alicé", "Al", PASSWORD, "username", id="username-non-ascii"),
        pytest.param("   ", "Al", PASSWORD, "username", id="username-blank"),
        pytest.param("alice", "", PASSWORD, "display_name", id="display-name-empty"),
        pytest.param("alice", " \t\n ", PASSWORD, "display_name", id="display-name-blank"),
        pytest.param("alice", "x" * 65, PASSWORD, "display_name", id="display-name-too-long"),
        pytest.param("alice", "Alice", "short", "password", id="password-too-short"),
        pytest.param("alice", "Alice", "1234567", "password", id="password-7-chars"),
        pytest.param("alice", "Alice", " " * 12, "password", id="password-blank"),
        pytest.param("alice", "Alice", "x" * 257, "password", id="password-too-long"),
    ],
)
def test_register_refuses_bad_fields_and_names_the_field(
    services: Services, username: str, display_name: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.accounts.register(username, display_name, password)

    assert refused.value.params["field"] == field
    assert refused.value.code == "invalid_input"
    assert refused.value.message
    # nothing was created: the (valid) name is still free and nobody can sign in with it
    with pytest.raises(Unauthenticated):
        services.accounts.login(username, password, IP)


@pytest.mark.parametrize(
    ("username", "display_name", "password"),
    [
        pytest.param("abc", "A", PASSWORD, id="username-3-chars"),
        pytest.param("a" * 32, "A", PASSWORD, id="username-32-chars"),
        pytest.param("a.b_c.9", "A", PASSWORD, id="username-dots-underscores-digits"),
        pytest.param("alice", "x" * 64, PASSWORD, id="display-name-64-chars"),
        pytest.param("alice", "Alice", "12345678", id="password-8-chars"),
        pytest.param("alice", "Alice", "p" * 256, id="password-256-chars"),
    ],
)
def test_register_accepts_values_on_the_limits(
    services: Services, username: str, display_name: str, password: str
) -> None:
    user, _ = services.accounts.register(username, display_name, password)
    signed_in, _ = services.accounts.login(username, password, IP)
    assert signed_in.id == user.id


def test_taken_username_is_refused_and_nothing_is_created(
    services: Services, alice: Person, bob: Person
) -> None:
    with pytest.raises(Conflict) as refused:
        services.accounts.register("  ALICE ", "Impostor", "another password")
    assert refused.value.code == "conflict"

    # the original alice still signs in, the impostor's password does not work
    user, _ = services.accounts.login("alice", PASSWORD, IP)
    assert user == alice.user
    with pytest.raises(Unauthenticated):
        services.accounts.login("alice", "another password", OTHER_IP)
    # there is exactly one alice, and no "Impostor"
    assert usernames(services.accounts.search_users(bob.id, "alice")) == ["alice"]
    assert services.accounts.search_users(bob.id, "impostor") == []


def test_sign_ups_from_one_ip_are_limited(
    tmp_path: Path, migrated_template: Path, clock: FakeClock
) -> None:
    shutil.copy(migrated_template, tmp_path / "chat.db")
    settings = Settings(data_dir=tmp_path, registrations_per_ip=3, **FAST_HASH)  # type: ignore[arg-type]
    services = build_services(settings, clock=clock)
    for i in range(3):
        services.accounts.register(f"user{i}", "User", PASSWORD, client_ip="10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        services.accounts.register("user3", "User", PASSWORD, client_ip="10.0.0.1")
    assert refused.value.retry_after > 0
    assert services.accounts.search_users("", "user3") == []
    # another address is not affected, and the limit lifts after the window
    services.accounts.register("user4", "User", PASSWORD, client_ip="10.0.0.2")
    clock.advance(hours=1, seconds=1)
    services.accounts.register("user3", "User", PASSWORD, client_ip="10.0.0.1")


def test_invisible_characters_do_not_make_a_name(services: Services) -> None:
    with pytest.raises(InvalidInput):
        services.accounts.register("ghost", "\u200b\u200d \ufeff", PASSWORD)
    user, _ = services.accounts.register("zed", "Z\u200be\u200bd", PASSWORD)
    assert user.display_name == "Zed"


def test_junk_usernames_count_against_the_ip_but_get_no_counter_of_their_own(
    services: Services,
) -> None:
    limiter = services.accounts._limiter  # type: ignore[attr-defined]
    if not hasattr(limiter, "_hits"):
        pytest.skip("reads the in-memory limiter's keys")
    for i in range(10):
        with pytest.raises(Unauthenticated):
            services.accounts.login("x" * 10_000 + str(i), "nope", client_ip="10.9.9.9")
    assert list(limiter._hits) == ["login:ip:10.9.9.9"]


# --- signing in ----------------------------------------------------------------------------


def test_login_returns_a_new_token_that_maps_to_the_user(services: Services, alice: Person) -> None:
    user, token = services.accounts.login("alice", PASSWORD, IP)

    assert user == alice.user
    assert token and token != alice.token
    assert services.accounts.authenticate(token) == alice.user
    # the sign-up session stays valid next to the new one
    assert services.accounts.authenticate(alice.token) == alice.user


def test_wrong_password_and_unknown_user_are_indistinguishable(
    services: Services, alice: Person
) -> None:
    with pytest.raises(Unauthenticated) as wrong_password:
        services.accounts.login("alice", "not her password", IP)
    with pytest.raises(Unauthenticated) as unknown_user:
        services.accounts.login("nobody", PASSWORD, IP)

    assert wrong_password.value.message == unknown_user.value.message
    assert wrong_password.value.params == unknown_user.value.params == {}


def test_five_failures_lock_the_username_even_for_the_right_password(
    services: Services, clock: FakeClock, alice: Person, bob: Person
) -> None:
    # a guesser tries five passwords for alice, from five different places
    for attempt in range(5):
        clock.advance(seconds=10)
        with pytest.raises(Unauthenticated):
            services.accounts.login("alice", f"guess {attempt}", f"192.0.2.{attempt}")

    # now even alice herself, with the right password and a fresh IP, must wait
    with pytest.raises(RateLimited) as limited:
        services.accounts.login("alice", PASSWORD, OTHER_IP)
    assert 0 < limited.value.retry_after <= WINDOW
    assert limited.value.params["retry_after"] == limited.value.retry_after
    # bob is not affected
    assert services.accounts.login("bob", PASSWORD, OTHER_IP)[0] == bob.user

    clock.advance(seconds=limited.value.retry_after)
    user, token = services.accounts.login("alice", PASSWORD, OTHER_IP)
    assert services.accounts.authenticate(token) == user == alice.user


def test_username_limit_counts_every_spelling_of_the_name(
    services: Services, clock: FakeClock, alice: Person
) -> None:
    for spelling in ["alice", "ALICE", " Alice ", "aLiCe", "alice\n"]:
        with pytest.raises(Unauthenticated):
            services.accounts.login(spelling, "wrong password", IP)

    with pytest.raises(RateLimited):
        services.accounts.login("alice", PASSWORD, OTHER_IP)

    clock.advance(minutes=15, seconds=1)
    assert services.accounts.login("alice", PASSWORD, IP)[0] == alice.user


def test_failures_older_than_the_window_no_longer_count(
    services: Services, clock: FakeClock, alice: Person
) -> None:
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            services.accounts.login("alice", "wrong password", IP)
    clock.advance(minutes=15, seconds=1)
    # four old failures have expired, so one more does not reach the limit of five
    with pytest.raises(Unauthenticated):
        services.accounts.login("alice", "wrong password", IP)
    assert services.accounts.login("alice", PASSWORD, IP)[0] == alice.user


def test_one_ip_spraying_many_usernames_is_limited(
    services: Services, clock: FakeClock, alice: Person
) -> None:
    for i in range(30):
        with pytest.raises(Unauthenticated):
            services.accounts.login(f"victim{i}", "password123", IP)

    # the sprayer's IP is locked out, even for a real account with the right password...
    with pytest.raises(RateLimited) as limited:
        services.accounts.login("alice", PASSWORD, IP)
    assert 0 < limited.value.retry_after <= WINDOW
    # ...while alice at home is not
    assert services.accounts.login("alice", PASSWORD, OTHER_IP)[0] == alice.user

    clock.advance(minutes=15, seconds=1)
    assert services.accounts.login("alice", PASSWORD, IP)[0] == alice.user


def test_twenty_nine_failures_from_one_ip_are_not_yet_limited(
    services: Services, alice: Person
) -> None:
    for i in range(29):
        with pytest.raises(Unauthenticated):
            services.accounts.login(f"victim{i}", "password123", IP)
    assert services.accounts.login("alice", PASSWORD, IP)[0] == alice.user


# --- sessions ------------------------------------------------------------------------------


def test_logout_ends_only_that_session(services: Services, alice: Person) -> None:
    _, laptop = services.accounts.login("alice", PASSWORD, IP)
    phone = alice.token

    services.accounts.logout(laptop)

    with pytest.raises(Unauthenticated):
        services.accounts.authenticate(laptop)
    assert services.accounts.authenticate(phone) == alice.user
    # signing out twice, or with nothing, is harmless
    services.accounts.logout(laptop)
    services.accounts.logout("")
    assert services.accounts.authenticate(phone) == alice.user


def test_session_expires_after_its_ttl(
    services: Services, settings: Settings, clock: FakeClock, alice: Person
) -> None:
    clock.advance(seconds=settings.session_ttl.total_seconds() - 1)
    assert services.accounts.authenticate(alice.token) == alice.user

    clock.advance(seconds=2)
    with pytest.raises(Unauthenticated) as expired:
        services.accounts.authenticate(alice.token)
    assert "expired" in expired.value.message

    # signing in again gives a fresh session
    _, token = services.accounts.login("alice", PASSWORD, IP)
    assert services.accounts.authenticate(token) == alice.user


@pytest.mark.parametrize(
    "token",
    ["", " ", "garbage", "x" * 43, "' OR 1=1 --"],
)
def test_authenticate_refuses_missing_and_unknown_tokens(
    services: Services, alice: Person, token: str
) -> None:
    with pytest.raises(Unauthenticated):
        services.accounts.authenticate(token)


def test_authenticate_refuses_a_tampered_token_and_the_stored_hash(
    services: Services, alice: Person
) -> None:
    last = alice.token[-1]
    tampered = alice.token[:-1] + ("A" if last != "A" else "B")
    with pytest.raises(Unauthenticated):
        services.accounts.authenticate(tampered)
    # only the hash is stored; knowing it (say, from a leaked database) does not sign you in
    with pytest.raises(Unauthenticated):
        services.accounts.authenticate(hash_token(alice.token))


# --- finding people ------------------------------------------------------------------------


@pytest.fixture
def people(register: Register) -> dict[str, Person]:
    return {
        p.user.username: p
        for p in [
            register("alice", "Alice Liddell"),
            register("alicia", "Alicia Keys"),
            register("zed", "Dr. ALICE Zed"),
            register("mal", "Malice Mizer"),
            register("kali", "Kay"),
            register("bob", "Bob Builder"),
        ]
    }


def test_search_matches_username_prefix_and_display_name_substring(
    services: Services, people: dict[str, Person]
) -> None:
    bob = people["bob"]
    found = usernames(services.accounts.search_users(bob.id, "ALI"))
    # alice/alicia by username prefix; zed and mal by display name; kali only has "ali"
    # in the middle of its username, which is not a prefix, and "Kay" does not contain it
    assert sorted(found) == ["alice", "alicia", "mal", "zed"]

    assert usernames(services.accounts.search_users(bob.id, "mizer")) == ["mal"]
    assert usernames(services.accounts.search_users(bob.id, "  alice   LIDDELL ")) == ["alice"]


def test_search_never_returns_the_viewer(services: Services, people: dict[str, Person]) -> None:
    alice = people["alice"]
    found = usernames(services.accounts.search_users(alice.id, "ali"))
    assert "alice" not in found
    assert sorted(found) == ["alicia", "mal", "zed"]


def test_blank_search_finds_nobody(services: Services, people: dict[str, Person]) -> None:
    assert services.accounts.search_users(people["bob"].id, "") == []
    assert services.accounts.search_users(people["bob"].id, "   \t") == []


def test_like_wildcards_in_a_search_are_literal(services: Services, register: Register) -> None:
    viewer = register("viewer", "Viewer")
    register("a_bc", "Underscore")
    register("axbc", "Letter X")
    register("percent", "100% Human")
    register("plain", "Plain Jane")
    register("slash", "Back\\slash")

    assert usernames(services.accounts.search_users(viewer.id, "a_b")) == ["a_bc"]
    assert usernames(services.accounts.search_users(viewer.id, "%")) == ["percent"]
    assert usernames(services.accounts.search_users(viewer.id, "0% h")) == ["percent"]
    assert services.accounts.search_users(viewer.id, "a%c") == []
    # as a LIKE wildcard "_" would match every name; literally, nobody's starts with or has one
    assert services.accounts.search_users(viewer.id, "_") == []
    assert usernames(services.accounts.search_users(viewer.id, "\\")) == ["slash"]


def test_search_finds_accented_names_whatever_their_unicode_form(
    services: Services, register: Register, bob: Person
) -> None:
    register("jose", "José Álvarez")
    assert usernames(services.accounts.search_users(bob.id, "josé")) == ["jose"]
    decomposed = unicodedata.normalize("NFD", "josé")
    assert usernames(services.accounts.search_users(bob.id, decomposed)) == ["jose"]
