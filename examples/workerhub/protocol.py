"""The frames sent to workers: the public contract."""

from uuid import UUID

from pydantic import BaseModel


class _Frame(BaseModel):
    model_config = {"extra": "forbid"}


class ReadyPayload(_Frame):
    # The contract says "may be null" (required, so every site must choose), but
    # the only construction site always fills it with the server's internal
    # database id: the contract and the code disagree, and the internal id leaks
    # to every client.
    worker_id: UUID | None  # expect: RL002
    # Filled from a nullable column: genuinely optional, not reported.
    resume_token: str | None
    pool_name: str


class ReadyFrame(_Frame):
    type: str = "ready"
    payload: ReadyPayload
