"""Several app nodes on one database: 64-bit ids where traffic grows, the index build to follow.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02

The request log's id (and the columns that point at it), the outbox's and the claims history's
ids become BIGINT on PostgreSQL, with their sequences; so does the rate limit's window start (unix
seconds overflow 32 bits in 2038). SQLite's INTEGER is 64-bit already: nothing to change there.
`index_build` holds the last `flask index rebuild`, which every node's index follows (app.py).
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

# (table, column, sequence-owning id?) widened to BIGINT on PostgreSQL.
WIDENED = (
    ("tipline_requests", "id", True),
    ("reply_addresses", "request_id", False),
    ("inbox_members", "request_id", False),
    ("outbox", "request_id", False),
    ("outbox", "id", True),
    ("claim_history", "id", True),
    ("tipline_rate", "window_start", False),
)


def upgrade() -> None:
    """Widen the growing ids on PostgreSQL; add the index build row's table."""
    if op.get_bind().dialect.name == "postgresql":
        for table, column, numbered in WIDENED:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer(),
                            existing_nullable=False)
            if numbered:  # a serial's sequence is `AS integer`: it would stop at 2**31 - 1
                op.execute(f"ALTER SEQUENCE {table}_{column}_seq AS bigint")
    op.create_table(
        "index_build",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("build", sa.String(length=32), nullable=False),
        sa.Column("encoder_spec", sa.String(length=500), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Drop the index build's table; narrow the ids again on PostgreSQL."""
    op.drop_table("index_build")
    if op.get_bind().dialect.name == "postgresql":
        for table, column, numbered in reversed(WIDENED):
            if numbered:
                op.execute(f"ALTER SEQUENCE {table}_{column}_seq AS integer")
            op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger(),
                            existing_nullable=False)
