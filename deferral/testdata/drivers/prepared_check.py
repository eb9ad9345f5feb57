"""asyncpg and psycopg 3 prepared statements through deferproxy (run by deferral/drivers_test.go).

    python prepared_check.py <dsn through the proxy> asyncpg|psycopg

Both drivers keep statements prepared on the server: asyncpg caches every statement it runs, psycopg 3 with
prepare=True. The dev schema dbt_fabio starts without stg_orders (production answers 'prod'); a second connection
through the proxy builds it ('dev') and drops it again. The cached statement must read what a fresh one reads, in
both directions. Prints each step; exits 1 on the first wrong answer.
"""

import asyncio
import sys

Q_ASYNCPG = "select src from dbt_fabio.stg_orders where id = $1"
Q_PSYCOPG = "select src from dbt_fabio.stg_orders where id = %s"
BUILD = "create table dbt_fabio.stg_orders as select 1 as id, 'dev'::text as src"
DROP = "drop table dbt_fabio.stg_orders"


def expect(step, got, want):
    print(f"{step}: {got}", flush=True)
    if got != want:
        print(f"FAIL {step}: read {got!r}, want {want!r}", flush=True)
        sys.exit(1)


async def check_asyncpg(dsn):
    import asyncpg

    conn = await asyncpg.connect(dsn)
    other = await asyncpg.connect(dsn)
    try:
        for i in range(3):
            expect(f"cached, before the dev build ({i + 1})", await conn.fetchval(Q_ASYNCPG, 1), "prod")
        stmt = await conn.prepare(Q_ASYNCPG)
        expect("explicit prepare", await stmt.fetchval(1), "prod")
        await other.execute(BUILD)
        expect("cached, after the dev build", await conn.fetchval(Q_ASYNCPG, 1), "dev")
        expect("explicit prepare, after the dev build", await stmt.fetchval(1), "dev")
        async with conn.transaction():
            expect("in a transaction", await conn.fetchval(Q_ASYNCPG, 1), "dev")
        await other.execute(DROP)
        expect("cached, after the dev drop", await conn.fetchval(Q_ASYNCPG, 1), "prod")
        expect("explicit prepare, after the dev drop", await stmt.fetchval(1), "prod")
        # A dev model with other columns: the proxy answers PostgreSQL's 0A000 "cached plan must not change result
        # type", on which asyncpg prepares its cached statement again and retries (outside a transaction).
        await other.execute("create table dbt_fabio.stg_orders as select 1 as id, 42 as src")
        expect("cached, other columns in dev", await conn.fetchval(Q_ASYNCPG, 1), 42)
        await other.execute(DROP)
        expect("cached, production's columns again", await conn.fetchval(Q_ASYNCPG, 1), "prod")
    finally:
        await conn.close()
        await other.close()


def check_psycopg(dsn):
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn, psycopg.connect(dsn, autocommit=True) as other:
        for i in range(3):
            expect(f"prepare=True, before the dev build ({i + 1})",
                   conn.execute(Q_PSYCOPG, (1,), prepare=True).fetchone()[0], "prod")
        other.execute(BUILD)
        expect("prepare=True, after the dev build", conn.execute(Q_PSYCOPG, (1,), prepare=True).fetchone()[0], "dev")
        # The default: prepared after prepare_threshold (5) executions.
        for i in range(7):
            expect(f"prepare_threshold, dev ({i + 1})", conn.execute(Q_PSYCOPG + " and true", (1,)).fetchone()[0], "dev")
        other.execute(DROP)
        expect("prepare=True, after the dev drop", conn.execute(Q_PSYCOPG, (1,), prepare=True).fetchone()[0], "prod")
        expect("prepare_threshold, after the dev drop", conn.execute(Q_PSYCOPG + " and true", (1,)).fetchone()[0], "prod")
        with conn.transaction():
            expect("in a transaction", conn.execute(Q_PSYCOPG, (1,), prepare=True).fetchone()[0], "prod")
        # A dev model with other columns: PostgreSQL's 0A000 "cached plan must not change result type" at every
        # execution of the prepared statement, as PostgreSQL itself answers after such a change; psycopg does not
        # prepare again by itself: DEALLOCATE ALL (which psycopg follows) or a new connection does.
        other.execute("create table dbt_fabio.stg_orders as select 1 as id, 42 as src")
        for i in range(2):
            try:
                got = conn.execute(Q_PSYCOPG, (1,), prepare=True).fetchone()[0]
                expect(f"other columns in dev ({i + 1})", got, "an 0A000 error")
            except psycopg.errors.FeatureNotSupported as e:
                expect(f"other columns in dev ({i + 1})", e.sqlstate, "0A000")
        conn.execute("deallocate all")
        expect("other columns in dev, after deallocate all", conn.execute(Q_PSYCOPG, (1,), prepare=True).fetchone()[0], 42)
        other.execute(DROP)


def main():
    dsn, driver = sys.argv[1], sys.argv[2]
    if driver == "asyncpg":
        asyncio.run(check_asyncpg(dsn))
    elif driver == "psycopg":
        check_psycopg(dsn)
    else:
        sys.exit(f"unknown driver {driver}")
    print(f"OK {driver}", flush=True)


main()
