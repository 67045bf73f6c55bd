"""The desk's inbox: a group's assignee, a web request's client and follow-up code.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tipline_requests") as batch:
        batch.add_column(sa.Column("client_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("followup", sa.String(length=24), nullable=True))
        batch.create_unique_constraint("uq_tipline_requests_followup", ["followup"])
    with op.batch_alter_table("inbox_groups") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_inbox_groups_assignee_id", "editor_accounts",
                                 ["assignee_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_inbox_groups_assignee_id", ["assignee_id"])


def downgrade() -> None:
    with op.batch_alter_table("inbox_groups") as batch:
        batch.drop_index("ix_inbox_groups_assignee_id")
        batch.drop_constraint("fk_inbox_groups_assignee_id", type_="foreignkey")
        batch.drop_column("assignee_id")
    with op.batch_alter_table("tipline_requests") as batch:
        batch.drop_constraint("uq_tipline_requests_followup", type_="unique")
        batch.drop_column("followup")
        batch.drop_column("client_hash")
