"""Alembic's environment: run the revisions on the connection `claims.migrate` hands over.

There is no alembic.ini: claims/migrate.py builds the Config in code and puts an open
connection in ``config.attributes["connection"]``, so a migration runs inside the caller's lock
and transaction, on the app's own engine.
"""

from alembic import context

from claims.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `flask db upgrade` (claims/migrate.py), "
                       "which hands Alembic the app's database connection")

context.configure(
    connection=connection,
    # Every model the running process imported: what `compare` and autogenerate hold the
    # database to. The revisions themselves never read it.
    target_metadata=Base.metadata,
    # SQLite can barely ALTER a table: batch operations copy it into a new one instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
