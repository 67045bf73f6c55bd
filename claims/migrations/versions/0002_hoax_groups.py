"""Hoax groups: fact-checks that debunk the same claim, and whether an editor confirmed them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Two new tables; no existing table changes. Fact-checks already in the library have no group
until `flask claims group` (or their next publication) groups them: until then each stands
alone, as before.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# claims.models.UTCDateTime stores through this type.
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the hoax groups and their members."""
    op.create_table(
        "hoax_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "hoax_members",
        sa.Column("claim_id", sa.String(length=200), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["hoax_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    op.create_index("ix_hoax_members_group_id", "hoax_members", ["group_id"])


def downgrade() -> None:
    """Drop the hoax groups."""
    op.drop_index("ix_hoax_members_group_id", table_name="hoax_members")
    op.drop_table("hoax_members")
    op.drop_table("hoax_groups")
