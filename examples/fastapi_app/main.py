"""A small FastAPI app (Debian's python3-fastapi) for `arbiterd -k asgi`:
JSON (`/`, `/items/{id}`), a validated POST body (`/items`), a streamed
response (`/stream`) and state set up by the lifespan."""
import asyncio

from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

ITEMS = {}


app = FastAPI()


@app.on_event("startup")
async def fill_items():
    # The lifespan startup: runs before gworker reports READY.
    ITEMS.clear()
    ITEMS[1] = {"id": 1, "name": "hammer", "price": 9.5}


@app.on_event("shutdown")
async def empty_items():
    # The lifespan shutdown: on TERM, after the in-flight requests.
    ITEMS.clear()


class Item(BaseModel):
    name: str
    price: float


@app.get("/")
async def hello():
    return {"message": "Hello, World!"}


@app.get("/items/{item_id}")
async def read_item(item_id: int):
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="no such item")
    return ITEMS[item_id]


@app.post("/items", status_code=201)
async def create_item(item: Item):
    item_id = max(ITEMS, default=0) + 1
    ITEMS[item_id] = {"id": item_id, **item.dict()}
    return ITEMS[item_id]


@app.get("/stream")
async def stream(n: int = 3):
    async def lines():
        for i in range(n):
            yield f"line {i}\n"
            await asyncio.sleep(0)
    return StreamingResponse(lines(), media_type="text/plain")
