"""Who may see what: a :class:`Scope` names the hosts and counties a caller may read.

Every function in ``livecommerce.queries`` takes a scope and adds it to its SQL. The access
layer builds one per request from the logged-in user; the CLI and analysts use
:meth:`Scope.everything`. A streamer's scope names their host(s); an envoy's their counties.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Scope"]


@dataclass(frozen=True)
class Scope:
    """The hosts and counties a caller may see; ``all_data`` lifts the limit (analysts, CLI)."""

    host_ids: frozenset[str] = field(default_factory=frozenset)
    county_ids: frozenset[str] = field(default_factory=frozenset)
    all_data: bool = False

    @classmethod
    def everything(cls) -> Scope:
        """Return the scope that sees all data."""
        return cls(all_data=True)

    @classmethod
    def of(cls, *, hosts: tuple[str, ...] | list[str] = (), counties: tuple[str, ...] | list[str] = ()) -> Scope:
        """Return a scope limited to ``hosts`` and ``counties``."""
        return cls(frozenset(hosts), frozenset(counties))

    @property
    def is_empty(self) -> bool:
        """Return True when the scope sees nothing."""
        return not self.all_data and not self.host_ids and not self.county_ids
