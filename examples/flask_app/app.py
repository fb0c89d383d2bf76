"""A small Flask app (Debian's python3-flask): pages, a form, JSON.

    arbiterd -w 2 -b 127.0.0.1:8000 --chdir examples/flask_app app:app
"""
import hashlib

from flask import Flask, jsonify, redirect, render_template_string, request, url_for

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024

_messages = []  # per worker process: enough for a demo

PAGE = """<!doctype html>
<title>greenfork + Flask</title>
<h1>{{ title }}</h1>
<p>Served by {{ server }} through gworker.</p>
<form method="post" action="{{ url_for('guestbook') }}">
  <input name="name" placeholder="name"> <input name="message" placeholder="message">
  <button>Sign</button>
</form>
<ul>{% for m in messages %}<li>{{ m.name }}: {{ m.message }}</li>{% endfor %}</ul>
<p><a href="{{ url_for('api_info') }}">/api/info</a></p>
"""


@app.get("/")
def index():
    return render_template_string(PAGE, title="Hello from Flask",
                                  server=request.environ.get("SERVER_SOFTWARE", "?"),
                                  messages=_messages)


@app.get("/hello")
def hello():
    return "Hello, World!\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.post("/guestbook")
def guestbook():
    name = request.form.get("name", "").strip()
    message = request.form.get("message", "").strip()
    if not name or not message:
        return "name and message are required\n", 400
    _messages.append({"name": name, "message": message})
    return redirect(url_for("index"))


@app.get("/api/info")
def api_info():
    return jsonify(method=request.method, path=request.path, args=request.args,
                   script_root=request.script_root,
                   remote_addr=request.remote_addr, messages=len(_messages))


@app.post("/api/echo")
def api_echo():
    data = request.get_json(silent=True)
    if data is None:
        return jsonify(error="expected a JSON body"), 400
    return jsonify(received=data)


@app.post("/upload")
def upload():
    files = {}
    for field, storage in request.files.items():
        content = storage.read()
        files[field] = {"filename": storage.filename, "size": len(content),
                        "sha256": hashlib.sha256(content).hexdigest()}
    return jsonify(files=files, form=request.form.to_dict())


@app.get("/cookies")
def cookies():
    return jsonify(cookies=request.cookies.to_dict())
