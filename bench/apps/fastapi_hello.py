"""FastAPI's JSON hello (Debian's python3-fastapi) for the fastapi scenario."""
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello():
    return {"message": "Hello, World!"}
