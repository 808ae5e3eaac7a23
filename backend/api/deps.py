"""What every route needs: the services, the caller (from the bearer token), the client IP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.container import Services
from backend.errors import Unauthenticated
from backend.models import User

_bearer = HTTPBearer(auto_error=False, description="The token from /auth/register or /auth/login")


def get_services(request: Request) -> Services:
    provider: Callable[[], Services] = request.app.state.services
    return provider()


def get_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("Send your token as 'Authorization: Bearer <token>'.")
    return credentials.credentials


# The web app's session cookie (chat_web/states/session.py). Media URLs are loaded by the browser
# itself (<img src>, <audio src>, downloads), which cannot add a bearer header; the cookie is
# SameSite=Strict, so other sites cannot make a signed-in browser use it.
SESSION_COOKIE = "chat_session"


def get_token_or_cookie(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is not None and credentials.credentials:
        return credentials.credentials
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie:
        raise Unauthenticated("Send your token as 'Authorization: Bearer <token>'.")
    return cookie


def browser_user(
    token: Annotated[str, Depends(get_token_or_cookie)],
    services: Annotated[Services, Depends(get_services)],
) -> User:
    """The caller from a bearer token or, for media the browser loads, the session cookie."""
    return services.accounts.authenticate(token)


def current_user(
    token: Annotated[str, Depends(get_token)],
    services: Annotated[Services, Depends(get_services)],
) -> User:
    return services.accounts.authenticate(token)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


ServicesDep = Annotated[Services, Depends(get_services)]
UserDep = Annotated[User, Depends(current_user)]
BrowserUserDep = Annotated[User, Depends(browser_user)]
TokenDep = Annotated[str, Depends(get_token)]
IpDep = Annotated[str, Depends(client_ip)]
