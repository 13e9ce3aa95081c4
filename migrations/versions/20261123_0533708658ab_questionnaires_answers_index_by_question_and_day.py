"""questionnaires: index of answers by question and day (governance's tagged-question figures)

Revision ID: 0533708658ab
Revises: 774660a0be3f
Create Date: 2026-11-23 20:24:05.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0533708658ab'
down_revision = '774660a0be3f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questionnaire_answers', schema=None) as batch_op:
        batch_op.create_index('ix_questionnaire_answers_question_submitted', ['question_id', 'submitted_on'],
                              unique=False,
                              postgresql_include=['response_id', 'option_id', 'number', 'neighbourhood_id'])


def downgrade():
    with op.batch_alter_table('questionnaire_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_questionnaire_answers_question_submitted')
