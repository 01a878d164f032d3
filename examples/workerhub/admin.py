"""An offline maintenance script: never runs while serving a request."""

import argparse
import asyncio

from .db import SessionLocal
from .models import Worker


async def purge(limit: int) -> None:
    # Asserts in offline scripts are not on the request path: not reported.
    assert limit > 0, "limit must be positive"
    async with SessionLocal() as session:
        for worker in (await session.scalars(Worker.__table__.select().limit(limit))).all():
            await session.delete(worker)
        await session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=100)
    asyncio.run(purge(parser.parse_args().limit))
