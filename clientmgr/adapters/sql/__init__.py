"""SQL storage (SQLAlchemy 2 async): SQLite embedded by default, PostgreSQL in production.

Kept import-light on purpose: import the submodule you need (``engine``, ``migrate``,
``unit_of_work``...), so ``search`` stays usable by the in-memory adapter without SQLAlchemy.
"""
