"""How a reply reached its sender: in the webhook's reply, or later through Twilio's REST API.

Revision ID: 0008_late
Revises: 0007_hoax_pairs
Create Date: 2026-12-03

tipline_requests.delivery is "later" for a message that waited past Twilio's webhook timeout and
was answered through the REST API (tipline/late.py): a retry of its MessageSid then gets an empty
reply instead of a second copy. NULL for every earlier request: answered in the webhook's reply.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_late"
down_revision = "0007_hoax_pairs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add tipline_requests.delivery."""
    with op.batch_alter_table("tipline_requests") as batch:
        batch.add_column(sa.Column("delivery", sa.String(length=8), nullable=True))


def downgrade() -> None:
    """Drop tipline_requests.delivery."""
    with op.batch_alter_table("tipline_requests") as batch:
        batch.drop_column("delivery")
