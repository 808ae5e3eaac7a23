"""Accounts and sessions: sign-up, sign-in with rate limits, token authentication, sign-out."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.errors import InvalidInput, NotFound, RateLimited, Unauthenticated
from backend.events import SessionEnded
from backend.ids import new_id
from backend.models import User
from backend.ports import Bus, Clock, RateLimiter, SessionStore, UserStore
from backend.settings import Settings
from backend.unicode import require_encodable

USERNAME_RE = re.compile(r"^[a-z0-9_.]{3,32}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_DISPLAY_NAME = 64
SEARCH_LIMIT = 20


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_username(raw: str) -> str:
    return raw.strip().lower()


def _clean_name(raw: str) -> str:
    """NFC, single spaces, and no invisible format characters (a name of only U+200B is empty)."""
    visible = "".join(ch for ch in raw if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFC", " ".join(visible.split()))


class AccountService:
    def __init__(
        self,
        settings: Settings,
        users: UserStore,
        sessions: SessionStore,
        limiter: RateLimiter,
        bus: Bus,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._bus = bus
        self._users = users
        self._sessions = sessions
        self._limiter = limiter
        self._clock = clock
        self._hasher = PasswordHasher(
            time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kib
        )
        # Verified against when the username is unknown, so timing does not reveal which
        # usernames exist.
        self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def register(
        self, username: str, display_name: str, password: str, client_ip: str = ""
    ) -> tuple[User, str]:
        """Create an account and sign it in.

        Returns:
            The new user and a session token.

        Raises:
            RateLimited: too many sign-ups from this IP recently (hashing is deliberately slow,
                so unlimited sign-ups would be a cheap way to exhaust the CPU).
            InvalidInput: a field breaks its rule (the message says which and why).
            Conflict: the username is taken; nothing is created.
        """
        for value in (username, display_name, password):
            require_encodable(value, "Your entry")
        settings = self._settings
        key = f"register:ip:{client_ip}"
        wait = self._limiter.retry_after(
            key, settings.registrations_per_ip, settings.registration_window
        )
        if wait:
            raise RateLimited("Too many new accounts from here. Try again later.", retry_after=wait)
        self._limiter.hit(key, settings.registration_window)
        username = normalize_username(username)
        if not USERNAME_RE.fullmatch(username):
            raise InvalidInput(
                "Usernames are 3-32 characters: letters, digits, '.' and '_'.", field="username"
            )
        display_name = _clean_name(display_name)
        if not display_name:
            raise InvalidInput("Please enter your name.", field="display_name")
        if len(display_name) > MAX_DISPLAY_NAME:
            raise InvalidInput("Names are at most 64 characters.", field="display_name")
        self._check_password(password)
        user = User(
            id=new_id(), username=username, display_name=display_name, created_at=self._clock()
        )
        self._users.add_user(user, self._hasher.hash(password))
        return user, self._start_session(user.id)

    def login(self, username: str, password: str, client_ip: str) -> tuple[User, str]:
        """Check credentials and start a session.

        Failed attempts are limited per username and per client IP, so neither guessing one
        account's password nor spraying many accounts from one place gets far.

        Raises:
            RateLimited: too many recent failures for this username or IP.
            Unauthenticated: wrong username or password (deliberately not saying which).
        """
        require_encodable(username, "The username")
        require_encodable(password, "The password")
        username = normalize_username(username)
        settings = self._settings
        keys = {f"login:ip:{client_ip}": settings.login_failures_per_ip}
        # Only well-formed usernames get a counter of their own: junk ones (which cannot exist)
        # must not grow the limiter's memory; they still count against the IP.
        if USERNAME_RE.fullmatch(username):
            keys[f"login:user:{username}"] = settings.login_failures_per_user
        wait = max(self._limiter.retry_after(k, n, settings.login_window) for k, n in keys.items())
        if wait:
            raise RateLimited("Too many sign-in attempts. Try again later.", retry_after=wait)
        found = self._users.find_credentials(username) if len(keys) == 2 else None
        verified = self._verify(found[1] if found else self._decoy_hash, password)
        if found is None or not verified:
            for key in keys:
                self._limiter.hit(key, settings.login_window)
            raise Unauthenticated("Wrong username or password.")
        user, stored_hash = found
        if self._hasher.check_needs_rehash(stored_hash):
            self._users.set_password_hash(user.id, self._hasher.hash(password))
        return user, self._start_session(user.id)

    def authenticate(self, token: str) -> User:
        """The user a session token belongs to.

        Raises:
            Unauthenticated: no such session, or it expired or was signed out.
        """
        if not token:
            raise Unauthenticated("Please sign in.")
        session = self._sessions.get_session(hash_token(token))
        if session is None or session.revoked:
            raise Unauthenticated("Please sign in.")
        if session.expires_at <= self._clock():
            raise Unauthenticated("Your session has expired. Please sign in again.")
        user = self._users.get_users([session.user_id]).get(session.user_id)
        if user is None:
            raise Unauthenticated("Please sign in.")
        return user

    def logout(self, token: str) -> None:
        """End the session (other sessions of the same user stay signed in) and tell the tabs
        that hold it."""
        if not token:
            return
        token_hash = hash_token(token)
        session = self._sessions.get_session(token_hash)
        self._sessions.revoke_session(token_hash, self._clock())
        if session is not None and not session.revoked:
            self._bus.publish([session.user_id], SessionEnded(session.user_id, token_hash))

    def rename(self, user_id: str, display_name: str) -> User:
        """Change the caller's display name (same rules as at sign-up)."""
        name = _clean_name(require_encodable(display_name, "The name"))
        if not name:
            raise InvalidInput("Please enter your name.", field="display_name")
        if len(name) > MAX_DISPLAY_NAME:
            raise InvalidInput("Names are at most 64 characters.", field="display_name")
        self._users.set_display_name(user_id, name)
        return self.get_user(user_id)

    def get_user(self, user_id: str) -> User:
        user = self._users.get_users([user_id]).get(user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    def get_users(self, user_ids: list[str]) -> dict[str, User]:
        """The users that exist among ``user_ids`` (names of senders, members), by id."""
        return self._users.get_users(user_ids)

    def search_users(self, viewer_id: str, query: str) -> list[User]:
        """People to start a chat with: username prefix or display-name match, never oneself."""
        require_encodable(query, "The search")
        # Names are stored in NFC; a decomposed "é" typed by some keyboards must still match.
        query = unicodedata.normalize("NFC", " ".join(query.split()))[:MAX_DISPLAY_NAME]
        if not query:
            return []
        found = self._users.search_users(query, SEARCH_LIMIT + 1)
        return [u for u in found if u.id != viewer_id][:SEARCH_LIMIT]

    def _check_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD or not password.strip():
            raise InvalidInput("Passwords need at least 8 characters.", field="password")
        if len(password) > MAX_PASSWORD:
            raise InvalidInput("Passwords are at most 256 characters.", field="password")

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _start_session(self, user_id: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        self._sessions.add_session(
            hash_token(token), user_id, now, now + self._settings.session_ttl
        )
        return token
