"""Migrations take an empty database to exactly the schema ``wf.history.schema`` describes, and no further.

Each test migrates a database of its own, created empty on the session's PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest_asyncio
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Index, MetaData, inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tests.helpers import scratch_database, wf_executable
from wf import migrations
from wf.history.schema import metadata
from wf.server.app import asyncpg_dsn

Schema = dict[str, dict[str, Any]]
PG = postgresql.dialect()


@pytest_asyncio.fixture(loop_scope="session")
async def empty_db(db_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on the session's PostgreSQL; dropped after the test."""
    async with scratch_database(db_url, "wf_migrate", migrated=False) as url:
        yield url


# -- the schema as comparable data -------------------------------------------------------------


def _where(text: object) -> str | None:
    """A partial index predicate without the parentheses and spacing PostgreSQL adds."""
    if text is None:
        return None
    return re.sub(r"[\s()]", "", str(text))


def _declared_index(index: Index) -> dict[str, Any]:
    columns, sorting = [], {}
    for expr in index.expressions:
        if isinstance(expr, Column):
            columns.append(expr.name)
        else:  # text("start_time DESC")
            name, *order = str(expr).split()
            columns.append(name)
            if order:
                sorting[name] = tuple(o.lower() for o in order)
    return {
        "unique": bool(index.unique),
        "columns": columns,
        "sorting": sorting,
        "where": _where(index.dialect_options["postgresql"].get("where")),
    }


def _default(column: Column[Any]) -> str | None:
    """A column's server default as PostgreSQL reports it (an identity is not a default)."""
    default = column.server_default
    if default is None or column.identity is not None or column.computed is not None:
        return None
    return str(default.arg)  # type: ignore[attr-defined]


def declared_schema(md: MetaData) -> Schema:
    """What ``wf.history.schema`` says the database holds."""
    schema: Schema = {}
    for table in md.sorted_tables:
        schema[table.name] = {
            "columns": {
                c.name: {
                    "type": c.type.compile(dialect=PG),
                    "nullable": c.nullable,
                    "identity": c.identity is not None,
                    "default": _default(c),
                    "generated": c.computed is not None,
                }
                for c in table.columns
            },
            "primary_key": [c.name for c in table.primary_key.columns],
            "indexes": {ix.name: _declared_index(ix) for ix in table.indexes},
        }
    return schema


def reflected_schema(sync: Connection) -> Schema:
    """What the database holds, in the same shape (alembic's own bookkeeping table left out)."""
    insp = inspect(sync)
    schema: Schema = {}
    for name in insp.get_table_names():
        if name == "alembic_version":
            continue
        schema[name] = {
            "columns": {
                c["name"]: {
                    "type": c["type"].compile(dialect=PG),
                    "nullable": c["nullable"],
                    "identity": "identity" in c,
                    "default": c["default"],
                    "generated": "computed" in c,
                }
                for c in insp.get_columns(name)
            },
            "primary_key": insp.get_pk_constraint(name)["constrained_columns"],
            "indexes": {
                ix["name"]: {
                    "unique": bool(ix["unique"]),
                    "columns": list(ix["column_names"]),
                    "sorting": dict(ix.get("column_sorting", {})),
                    "where": _where(ix.get("dialect_options", {}).get("postgresql_where")),
                }
                for ix in insp.get_indexes(name)
            },
        }
    return schema


async def inspect_database(url: str) -> tuple[Schema, list[str], bool]:
    """(schema, alembic versions, whether the wf_abort() function exists) of the database at ``url``."""
    engine = create_async_engine(migrations.sqlalchemy_url(url))
    try:
        async with engine.connect() as conn:
            schema = await conn.run_sync(reflected_schema)
        conn2 = await asyncpg.connect(asyncpg_dsn(url))
        try:
            versions = []
            if await conn2.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL"):
                versions = [r["version_num"] for r in await conn2.fetch("SELECT version_num FROM alembic_version")]
            has_abort = bool(await conn2.fetchval("SELECT count(*) FROM pg_proc WHERE proname = 'wf_abort'"))
        finally:
            await conn2.close()
    finally:
        await engine.dispose()
    return schema, versions, has_abort


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(migrations.alembic_config(url)).get_current_head()
    assert head is not None
    return head


# -- tests -------------------------------------------------------------------------------------


async def test_an_empty_database_migrates_to_exactly_the_declared_schema(empty_db: str) -> None:
    before, versions, has_abort = await inspect_database(empty_db)
    assert (before, versions, has_abort) == ({}, [], False)

    await asyncio.to_thread(migrations.upgrade, empty_db)

    schema, versions, has_abort = await inspect_database(empty_db)
    declared = declared_schema(metadata)
    assert sorted(schema) == sorted(declared)
    for table in declared:
        # Table by table, part by part, so a failure names what differs.
        assert schema[table]["columns"] == declared[table]["columns"], table
        assert schema[table]["primary_key"] == declared[table]["primary_key"], table
        assert schema[table]["indexes"] == declared[table]["indexes"], table
    assert versions == [head_revision(empty_db)]
    assert has_abort, "the wf_abort() function the store's versioned writes rely on is missing"


async def test_migrating_again_changes_nothing(empty_db: str) -> None:
    await asyncio.to_thread(migrations.upgrade, empty_db)
    first = await inspect_database(empty_db)
    conn = await asyncpg.connect(asyncpg_dsn(empty_db))
    try:
        await conn.execute(
            "INSERT INTO timers (namespace, workflow_id, run_id, timer_key, fire_at, kind, event_id, attempt) "
            "VALUES ('default', 'w', 'r', 'k', now(), 1, 1, 1)"
        )
    finally:
        await conn.close()

    await asyncio.to_thread(migrations.upgrade, empty_db)

    assert await inspect_database(empty_db) == first
    conn = await asyncpg.connect(asyncpg_dsn(empty_db))
    try:
        assert await conn.fetchval("SELECT count(*) FROM timers WHERE workflow_id = 'w'") == 1
    finally:
        await conn.close()


async def test_wf_db_migrate_run_concurrently_by_several_processes(empty_db: str) -> None:
    # Servers starting together each migrate first: they must take turns, and all succeed.
    def migrate() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [wf_executable(), "db", "migrate", "--db", empty_db],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    results = await asyncio.gather(*(asyncio.to_thread(migrate) for _ in range(3)))
    for r in results:
        assert r.returncode == 0, r.stderr
        assert "up to date" in r.stdout + r.stderr
    schema, versions, has_abort = await inspect_database(empty_db)
    assert schema == declared_schema(metadata)
    assert versions == [head_revision(empty_db)]
    assert has_abort


async def test_wf_db_migrate_names_a_bad_url() -> None:
    r = await asyncio.to_thread(
        subprocess.run,
        [wf_executable(), "db", "migrate", "--db", "mysql://nope/db"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode != 0
    assert "PostgreSQL URL" in r.stderr
