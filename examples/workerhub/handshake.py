"""The WebSocket handshake."""

from fastapi import APIRouter, Depends, WebSocket
from sqlalchemy.ext.asyncio import AsyncSession

from . import frames
from .db import get_session

router = APIRouter()


@router.websocket("/ws/workers/{worker_id}")
async def connect(websocket: WebSocket, worker_id: int, session: AsyncSession = Depends(get_session)) -> None:
    await websocket.accept()
    pool = await frames.get_or_create_pool(session, websocket.query_params.get("pool", "default"))
    await frames.register_worker(session, websocket.query_params["name"], pool.id)
    frame = await frames.build_ready_frame(session, worker_id)
    await websocket.send_json(frame.model_dump(mode="json"))


@router.get("/healthz")
async def health() -> dict[str, str]:
    return {"status": "ok"}
