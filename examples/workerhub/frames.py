"""Helpers the WebSocket handler calls: they run on the request path."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Pool, Worker
from .protocol import ReadyFrame, ReadyPayload


async def build_ready_frame(session: AsyncSession, worker_id: int) -> ReadyFrame:
    worker = await session.get(Worker, worker_id)
    # Removed under `python -O`: the next line would raise a bare AttributeError.
    assert worker is not None  # expect: RL001
    pool = await session.get(Pool, worker.pool_id)
    assert pool is not None, "worker has no pool"  # expect: RL001
    worker.status = "ready"
    await session.commit()
    await session.refresh(worker)
    await record_heartbeat(session, worker)
    await session.refresh(worker)  # expect: RL003
    return ReadyFrame(payload=ready_payload(worker, pool.name))


async def build_ready_frame_checked(session: AsyncSession, worker_id: int) -> ReadyFrame:
    # The twin: explicit errors survive `python -O`, and one refresh after the last write.
    worker = await session.get(Worker, worker_id)
    if worker is None:
        raise LookupError(f"worker {worker_id} is gone")
    worker.status = "ready"
    await record_heartbeat(session, worker)
    await session.commit()
    await session.refresh(worker)
    return ReadyFrame(payload=ready_payload(worker, str(worker.pool_id)))


def ready_payload(worker: Worker, pool_name: str) -> ReadyPayload:
    # The one construction site: worker_id always gets the internal database id.
    return ReadyPayload(worker_id=worker.id, resume_token=worker.resume_token, pool_name=pool_name)


async def record_heartbeat(session: AsyncSession, worker: Worker) -> None:
    worker.status = "alive"
    await session.flush()


async def register_worker(session: AsyncSession, name: str, pool_id: int) -> Worker:
    # Two workers with one name connecting at once both read "no such row" and
    # both insert: the loser's request fails with an unhandled IntegrityError.
    worker = (await session.execute(select(Worker).where(Worker.name == name))).scalar_one_or_none()
    if worker is None:
        worker = Worker(name=name, pool_id=pool_id)
        session.add(worker)  # expect: RL004
        await session.commit()
    return worker


async def get_or_create_pool(session: AsyncSession, name: str) -> Pool:
    # The twin: a savepoint, the IntegrityError caught, and the winner's row re-read.
    pool = (await session.execute(select(Pool).where(Pool.name == name))).scalar_one_or_none()
    if pool is None:
        try:
            async with session.begin_nested():
                pool = Pool(name=name)
                session.add(pool)
        except IntegrityError:
            pool = (await session.execute(select(Pool).where(Pool.name == name))).scalar_one_or_none()
            if pool is None:
                raise
    return pool
