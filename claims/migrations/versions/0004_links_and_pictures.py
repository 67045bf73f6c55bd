"""Where claims circulated (links, pictures) and what media each request carried.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

claims.appearances holds the links and picture hashes editors (or a ClaimReview's
itemReviewed.appearance) give for a claim; claim_links indexes them, with each claim's article
URL and the links in its text, so that a forwarded link or picture finds its claim. The links of
claims already stored are indexed here, by the code's own claims.store.links_of.
"""
import sqlalchemy as sa
from alembic import op

from claims.store import links_of

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add claims.appearances, claim_links (filled from stored claims), the requests' media."""
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("appearances", sa.JSON(), nullable=True))
    links = op.create_table(
        "claim_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_claim_links_claim_id", "claim_links", ["claim_id"])
    op.create_index("ix_claim_links_key", "claim_links", ["key"])
    with op.batch_alter_table("tipline_requests") as batch:
        batch.add_column(sa.Column("media_kind", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("image_hash", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("via", sa.String(length=16), nullable=True))
    op.create_index("ix_tipline_requests_image_hash", "tipline_requests", ["image_hash"])

    claims = sa.table("claims", sa.column("id"), sa.column("url"), sa.column("claim"),
                      sa.column("summary"))
    bind = op.get_bind()
    rows = []
    for claim in bind.execute(sa.select(claims)).mappings().all():
        rows.extend({"claim_id": claim["id"], **link} for link in links_of(claim))
        if len(rows) >= 1000:
            op.bulk_insert(links, rows)
            rows = []
    if rows:
        op.bulk_insert(links, rows)


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index("ix_tipline_requests_image_hash", table_name="tipline_requests")
    with op.batch_alter_table("tipline_requests") as batch:
        batch.drop_column("via")
        batch.drop_column("image_hash")
        batch.drop_column("media_kind")
    op.drop_table("claim_links")
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("appearances")
