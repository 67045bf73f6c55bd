"""Review pairs: published fact-checks in different hoax groups that may debunk the same hoax.

Revision ID: 0007_hoax_pairs
Revises: 0006
Create Date: 2026-12-03

One new table; no existing table changes. Pairs are recorded as fact-checks are grouped;
`flask claims pairs` records those of a library grouped before this revision.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_hoax_pairs"
down_revision = "0006"
branch_labels = None
depends_on = None

# claims.models.UTCDateTime stores through this type.
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the review pairs."""
    op.create_table(
        "hoax_pairs",
        sa.Column("claim_id", sa.String(length=200), nullable=False),
        sa.Column("other_id", sa.String(length=200), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("numbers_differ", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["other_id"], ["claims.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("claim_id", "other_id"),
    )
    op.create_index("ix_hoax_pairs_other_id", "hoax_pairs", ["other_id"])
    op.create_index("ix_hoax_pairs_status_similarity", "hoax_pairs", ["status", "similarity"])


def downgrade() -> None:
    """Drop the review pairs."""
    op.drop_index("ix_hoax_pairs_status_similarity", table_name="hoax_pairs")
    op.drop_index("ix_hoax_pairs_other_id", table_name="hoax_pairs")
    op.drop_table("hoax_pairs")
