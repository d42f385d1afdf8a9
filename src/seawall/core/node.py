"""The node: settings, database, clock and ids, and the unit of work built from them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url, select

from seawall.core import audit
from seawall.core.access import Principal, operator
from seawall.core.clock import Clock, IdFactory, SystemClock, new_id
from seawall.core.context import Ctx
from seawall.core.nations import normalise_nation, seed_nations
from seawall.db.engine import check_reachable, make_engine, session_factory, transaction
from seawall.db.migrate import HEADS, current_heads, upgrade
from seawall.db.models import Nation
from seawall.errors import ConfigError, Conflict, InvalidInput, NodeNotInitialised, SeawallError
from seawall.settings import CONFIG_FILE, Settings, make_home, node_config, write_node_files


class Node:
    """One nation's Seawall node, as the edges (web, CLI) see it."""

    def __init__(
        self, settings: Settings, clock: Clock | None = None, ids: IdFactory | None = None
    ) -> None:
        self.settings = settings
        self.engine = make_engine(settings.effective_database_url)
        self.sessions = session_factory(self.engine)
        self.clock: Clock = clock or SystemClock()
        self.ids: IdFactory = ids or new_id
        self._audit_key: bytes | None = None

    @property
    def nation(self) -> str:
        """The nation this node serves (alpha-2)."""
        return self.settings.nation

    @property
    def audit_key(self) -> bytes:
        """The audit chain key; fails clearly when the node has no secret yet.

        Derived once: every unit of work needs it, and the secret is read from a file.
        """
        if self._audit_key is None:
            secret = self.settings.effective_secret_key
            if not secret:
                raise NodeNotInitialised(
                    f"node home {self.settings.home} has no secret key; run `seawall init`"
                )
            self._audit_key = audit.audit_key(secret)
        return self._audit_key

    def schema_revision(self) -> tuple[set[str], set[str]]:
        """(current, expected) schema heads: one per pillar branch."""
        check_reachable(self.engine)
        return current_heads(self.engine), set(HEADS)

    def check_ready(self) -> None:
        """Fail with one clear line unless the database is reachable and migrated."""
        url = make_url(self.settings.effective_database_url)
        if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
            if (self.settings.home / CONFIG_FILE).exists():
                raise NodeNotInitialised(
                    f"the node's database {url.database} does not exist: check "
                    "SEAWALL_DATABASE_URL, or run `seawall init` to create it"
                )
            raise NodeNotInitialised(
                f"no node at {self.settings.home}: run `seawall init` (or `make run`) first"
            )
        current, expected = self.schema_revision()
        if current != expected:
            raise NodeNotInitialised(
                f"database schema is at {sorted(current) or 'nothing'}, "
                f"this Seawall needs {sorted(expected)}: "
                "run `seawall init` to migrate"
            )
        with self.engine.connect() as conn:
            known = conn.execute(select(Nation.iso2).where(Nation.iso2 == self.nation)).first()
        if known is None:
            raise ConfigError(
                f"setting 'nation' is {self.nation!r}, which is no ISO 3166-1 nation: fix "
                f"SEAWALL_NATION or {CONFIG_FILE} in the node home (a code such as JM)"
            )
        _ = self.audit_key

    def operator(self, source: str = "cli") -> Principal:
        """The local operator of this node."""
        return operator(self.nation, source)

    @contextmanager
    def unit(self, who: Principal) -> Iterator[Ctx]:
        """One transaction acting as ``who``: commits on success, rolls back on failure."""
        with transaction(self.sessions) as db:
            yield Ctx(db, who, self.clock, self.ids, self.audit_key)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def init_node(
    settings: Settings, nation: str, name: str | None = None, clock: Clock | None = None
) -> Node:
    """Create or upgrade a node home: config, secret key, schema, nations and regions.

    A home keeps the nation it was made for, and nothing is written to it until the
    database answers (a refused URL is not remembered).
    """
    iso2 = normalise_nation(nation)
    if name is not None and not name.strip():
        raise InvalidInput("the node name is empty: give one such as 'Jamaica national node'")
    kept = node_config(settings.home).get("nation")
    if kept and kept != iso2:
        raise Conflict(
            f"this node serves {kept}, and a node's nation never changes: make a new home "
            f"for {iso2} (seawall --home DIR init --nation {iso2})"
        )
    values: dict[str, object] = {"nation": iso2}
    if name:
        values["node_name"] = name
    if settings.database_url:
        values["database_url"] = settings.database_url
    fresh = settings.model_copy(update={"nation": iso2, "node_name": name or settings.node_name})
    node = Node(fresh, clock=clock)
    if node.engine.url.get_backend_name() == "sqlite":
        make_home(settings.home)  # where SQLite makes its file
    try:
        check_reachable(node.engine)
    except SeawallError:
        node.close()
        raise
    write_node_files(settings, values)
    upgrade(node.engine)
    with node.unit(node.operator()) as ctx:
        added = seed_nations(ctx.db)
        if added:
            ctx.record("node.initialised", iso2, nations_loaded=added, node_name=fresh.node_name)
    return node
