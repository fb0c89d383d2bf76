"""A WebSocket chat room as a raw ASGI app: every message a client sends
goes to every client connected to the same worker. Run it with

    arbiterd -w 1 -k asgi -b 127.0.0.1:8000 --chdir examples/websocket_app main:app

and connect with `python3 -m websockets ws://127.0.0.1:8000/chat`. GET /
answers with the number of clients connected to the worker that serves it.
"""
import asyncio

clients = set()  # the send callables of this worker's open connections


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] == "http":
        body = b"%d client(s) connected\n" % len(clients)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})
        return
    # websocket
    await receive()  # websocket.connect
    if scope["path"] != "/chat":
        await send({"type": "websocket.close", "code": 1000})  # answered with 403
        return
    await send({"type": "websocket.accept"})
    clients.add(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
            # send() waits while a slow client has a lot queued: one at a
            # time per peer, so one slow client does not hold up the others
            await asyncio.gather(*(peer({"type": "websocket.send", "text": text})
                                   for peer in list(clients)), return_exceptions=True)
    finally:
        clients.discard(send)
