"""The database side: SQLAlchemy models, Alembic migrations and the stores that implement bot.ports."""
