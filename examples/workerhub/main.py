from fastapi import FastAPI

from .handshake import router

app = FastAPI(title="workerhub")
app.include_router(router)
