"""Generate an Alembic revision from the difference between the models and the migrations.

Usage: .venv/bin/python scripts/new_migration.py "what changed" NNNN
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from open_portal.db import alembic_config, make_engine


def main(message: str, rev_id: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.sqlite'}")
        config = alembic_config(engine)
        command.upgrade(config, "head")
        command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
