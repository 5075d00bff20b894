"""The one way callbacks are registered: :func:`callback`. Access checks (issue 11) go here, so a
callback registered any other way is a bug (a test walks ``app.callback_map`` against
:data:`REGISTERED`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import dash

F = TypeVar("F", bound=Callable[..., Any])

#: names of the functions registered through :func:`callback`, per app (id(app) -> names)
REGISTERED: dict[int, list[str]] = {}


def callback(app: dash.Dash, *dependencies: Any, **kwargs: Any) -> Callable[[F], F]:
    """Return a decorator registering the function as a callback of ``app`` (same arguments as
    ``app.callback``) and returning the function unchanged."""

    def decorate(func: F) -> F:
        app.callback(*dependencies, **kwargs)(func)
        REGISTERED.setdefault(id(app), []).append(func.__name__)
        return func

    return decorate
