// What gworker's HTTP engine offers an application, and what it asks of one.
//
// The engine (one I/O thread) parses a request; once its headers are
// complete (and a small body buffered) it hands the Request to one of the
// app threads, which calls Application::handle(). handle() reads the body
// through Request::body and answers through ResponseWriter; both block the
// app thread, never the I/O thread. Kinds of application: Python WSGI
// (worker/wsgi/) and native shared libraries (worker/native/).
//
//   void Hello::handle(Request& req, ResponseWriter& out) {
//     out.start(200, "OK", {{"Content-Type", "text/plain"}, {"Content-Length", "6"}});
//     out.write("hello\n", 6);
//     out.finish();
//   }
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "greenfork/status.hpp"

namespace greenfork::worker {

struct Header {
  std::string name;   // as the client (or app) spelled it
  std::string value;  // without surrounding whitespace
};

// The client went away, or its body was malformed or too slow; the app's
// read or write cannot complete. Apps let it propagate (or clean up).
class ClientGone : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Up to `max` bytes of the decoded body (chunked framing removed); 0 at
  // the end of the body. Blocks the app thread until data arrives; sends
  // "100 Continue" first if the client asked for it. Throws ClientGone.
  virtual size_t read(char* dst, size_t max) = 0;
};

struct Request {
  std::string method;
  std::string target;  // the raw request-target ("/a%20b?x=1")
  std::string path;    // target up to '?', still percent-encoded
  std::string query;   // after '?', without it
  int http_major = 1;
  int http_minor = 1;
  // In arrival order, duplicates kept. The engine has already refused
  // anything ambiguous (see worker/http/), and dropped header names that
  // contain '_' (so HTTP_X_FOO can only come from "X-Foo").
  std::vector<Header> headers;
  std::optional<uint64_t> content_length;  // absent for chunked or no body
  bool chunked = false;
  bool keep_alive = true;

  std::string remote_addr;  // "" on unix sockets
  uint16_t remote_port = 0;
  std::string server_name;  // the listener's address (host part)
  std::string server_port;  // the listener's port ("" on unix sockets)
  bool unix_socket = false;
  // "https" over TLS (--certfile), or when X-Forwarded-Proto came from a
  // --forwarded-allow-ips peer.
  std::string url_scheme = "http";
  // Over TLS, the subject of the client certificate verified against
  // --ca-certs (RFC 2253, as nginx's $ssl_client_s_dn); "" when none.
  std::string tls_client_subject;

  std::chrono::steady_clock::time_point received_at;
  BodyReader* body = nullptr;  // valid during handle()

  // First header with this name (case-insensitive), or nullptr.
  const Header* find_header(std::string_view name) const;
};

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Status and headers. The engine adds Date, Server and Connection, and
  // chooses Content-Length / chunked framing when the app gave neither.
  // Returns an error (and sends nothing) for a bad status, or a header
  // name/value with CR, LF, NUL or a bad token: the caller answers 500.
  // May be called again only before the first write (exc_info semantics).
  virtual Status start(int status, std::string_view reason, std::vector<Header> headers) = 0;
  // An empty vector to fill for start(), with the capacity of an earlier
  // response's headers when the writer kept one (no allocation per
  // response). Optional: any vector will do.
  virtual std::vector<Header> header_buffer() { return {}; }
  // Body bytes; buffered and sent in as few syscalls as possible, with
  // back-pressure for large bodies. Throws ClientGone.
  virtual void write(const char* data, size_t len) = 0;
  // Send `count` bytes of `fd` from `offset` (sendfile() on plain sockets).
  // Throws ClientGone.
  virtual void send_file(int fd, off_t offset, uint64_t count) = 0;
  // Send what write() buffered now, without waiting for more (PEP 3333:
  // a streamed block must not be delayed). The WSGI gateway calls it after
  // each block of a body of unknown length. Throws ClientGone. The default
  // keeps buffering (engines that always send at once need nothing else).
  virtual void flush() {}
  // The response is complete. Throws ClientGone.
  virtual void finish() = 0;
  // Body bytes that write() takes now without waiting for the client (it
  // buffers them for the I/O thread); while it is > 0, finish() does not
  // wait either. 0 (the default): any call may wait, so a caller holding a
  // lock (a WSGI gateway's GIL) gives it up around the call.
  virtual size_t room() const { return 0; }
  // True once any byte of the response may have reached the client: from
  // then on an error can only close the connection.
  virtual bool committed() const = 0;
  // Give up on this response: the connection is closed without completing.
  virtual void abort() noexcept = 0;
  // 103 Early Hints (RFC 8297): an informational response carrying these
  // headers (typically Link), sent now, ahead of the final response; the
  // app goes on as for a flush. Each protocol implements it (HTTP/1.1 in
  // the engine's Exchange). true: sent; false: nothing sent, and nothing to
  // do about it (an HTTP/1.0 client, a protocol without 1xx responses, the
  // response already started, or a writer without the feature); an error
  // (nothing sent) for a bad header name or value. Throws ClientGone.
  virtual StatusOr<bool> send_early_hints(std::vector<Header> headers) {
    (void)headers;
    return false;
  }
};

// Services the engine offers an application.
class WorkerHost {
 public:
  virtual ~WorkerHost() = default;
  // Drain and exit 0, so arbiterd starts a fresh worker (--reload).
  virtual void request_restart(const std::string& reason) = 0;
  // A line for the error log (wsgi.errors, native app logs).
  virtual void log_error(std::string_view message) = 0;
};

// A request served by an app kind that runs many requests on one thread of
// its own without ever blocking it (ASGI on an asyncio loop). The app's
// thread calls these and none blocks: what needs the socket (want_body,
// send) is posted to the I/O thread, whose completion comes back through
// AsyncApplication::io_done() (on the I/O thread). At most one posted
// operation is outstanding; finish(), fail() and abort() are the last call
// (the exchange may be reused as soon as the I/O thread sees it).
//
//   exchange.start(200, {{"Content-Type", "text/plain"}});
//   exchange.finish("hello\n");   // Content-Length framing: the whole body
class AsyncExchange {
 public:
  virtual const Request& head() const = 0;
  // Decoded body bytes already received, up to `max`, without waiting.
  // 0 with end=true: the body is complete; 0 with end=false: none yet
  // (want_body(), then io_done). Throws ClientGone for a broken body.
  virtual size_t take_body(char* dst, size_t max, bool& end) = 0;
  // Bytes take_body() can return now.
  virtual uint64_t body_ready() const = 0;
  // Posts: read more of the body (sending "100 Continue" first if asked).
  virtual void want_body() = 0;
  // The size of a buffer want_body_into() can fill straight from the
  // socket (the kernel's copy is the only one), at most `block`; 0 when
  // this exchange reads into its own buffer only (chunked, TLS, HTTP/2).
  virtual size_t direct_body_room(size_t block) const {
    (void)block;
    return 0;
  }
  // Posts as want_body(), the bytes going to `dst` (which must stay valid
  // until io_done); then take_direct() says how many (0: see take_body()).
  virtual void want_body_into(char* dst, size_t cap) {
    (void)dst;
    (void)cap;
    want_body();
  }
  virtual size_t take_direct() { return 0; }
  // Status and headers, sent with the first body bytes (as ResponseWriter::start).
  virtual Status start(int status, std::vector<Header> headers) = 0;
  // Posts body bytes (Content-Length budget or chunked framing applied);
  // io_done comes once the client has left at most the outbox bound unread.
  virtual void send(std::string_view data) = 0;
  // Last: the response is complete, `data` its last bytes.
  virtual void finish(std::string_view data) = 0;
  // Posts the response's body: `size` bytes of `fd` from its start, with
  // sendfile on the I/O thread (ASGI's http.response.pathsend); Content-Length
  // is `size` unless the app gave one. Only before any body bytes; `fd`
  // stays open until io_done. finish() follows.
  virtual Status pathsend(int fd, uint64_t size) = 0;
  // After start(), before any body: the response will end with trailer
  // fields named in `names` (the app's Trailer header, which start() drops
  // as hop-by-hop): announced when the request takes trailers.
  virtual Status declare_trailers(std::string_view names) = 0;
  // Last, after the body (ASGI's http.response.trailers): the response ends
  // with these trailer fields when the request took them (HTTP/1.1 with
  // `TE: trailers`, a chunked body); else they are dropped.
  virtual Status finish_trailers(std::vector<Header> trailers) = 0;
  // Last: 500 when nothing was sent yet, else the connection is closed.
  virtual void fail() = 0;
  // Last: the connection is closed, the response left incomplete.
  virtual void abort_response() = 0;
  // 103 Early Hints, as ResponseWriter::send_early_hints but posted: true
  // when posted (io_done follows), false when nothing is sent (no io_done).
  virtual StatusOr<bool> early_hints(std::vector<Header> headers) {
    (void)headers;
    return false;
  }

 protected:
  ~AsyncExchange() = default;  // owned by the engine, never deleted through this
};

// A WebSocket offered to an async app (the ASGI websocket scope). The app's
// thread calls these and none blocks: what needs the socket is posted to
// the I/O thread. AsyncApplication::ws_wake() is only a hint that the state
// changed (a message came, the connection closed, queued bytes drained):
// the app looks again with take_message() / send_blocked(). done() is the
// last call; until then the engine keeps the object alive.
//
//   ws.accept(std::nullopt, {});  ws.send_message(true, "hi");
//   AsyncWebSocket::Message m = ws.take_message();   // kNone: want_message(), wait for a wake
class AsyncWebSocket {
 public:
  struct Message {
    enum Kind { kNone, kText, kBinary, kClosed };
    Kind kind = kNone;
    std::string data;       // kText / kBinary
    uint16_t code = 0;      // kClosed: the close code (1006 without a closing handshake)
    std::string reason;     // kClosed
  };
  virtual const Request& head() const = 0;
  // The client's Sec-WebSocket-Protocol offers, in order.
  virtual const std::vector<std::string>& subprotocols() const = 0;
  // Sends the 101 (a chosen subprotocol the client did not offer: 500).
  virtual void accept(std::optional<std::string> subprotocol, std::vector<Header> headers) = 0;
  // Queues a message (dropped once the connection is closing).
  virtual void send_message(bool text, std::string data) = 0;
  // 0: go on; 1: more than the send bound is queued (a wake follows the
  // drain); 2: the connection is closed (what is sent is dropped).
  virtual int send_state() = 0;
  // The next received message, kClosed once closed and all were taken.
  virtual Message take_message() = 0;
  // Asks for a wake when a message arrives or the connection closes.
  virtual void want_message() = 0;
  // Before accept: 403 (the app refused); after: the closing handshake.
  virtual void close(uint16_t code, std::string reason) = 0;
  // Before accept, instead of it: this HTTP response goes to the client
  // and the connection closes (ASGI's websocket.http.response extension).
  virtual void deny(int status, std::vector<Header> headers, std::string body) = 0;
  // The app failed: 500 before accept, close 1011 after.
  virtual void fail() = 0;
  // Last: the app is done with the connection (closed with 1000 if open).
  virtual void done() = 0;

 protected:
  ~AsyncWebSocket() = default;
};

// The engine's side of an async app kind (Application::async()). Every
// call is on the I/O thread and must return at once (queue and wake).
class AsyncApplication {
 public:
  virtual ~AsyncApplication() = default;
  // A request whose head (and buffered body) is complete.
  virtual void submit(AsyncExchange& exchange) = 0;
  // A posted operation completed; ok=false: the client is gone.
  virtual void io_done(AsyncExchange& exchange, bool ok) = 0;
  // The client closed the connection while the app held the request.
  virtual void disconnected(AsyncExchange& exchange) = 0;
  // A WebSocket upgrade request (websocket.connect); any thread may call
  // ws_wake() (a hint, see AsyncWebSocket).
  virtual void ws_connect(AsyncWebSocket& ws) = 0;
  virtual void ws_wake(AsyncWebSocket& ws) = 0;
  // False: the app has no WebSocket scope (WSGI on green threads), so an
  // upgrade request reaches it as a plain request (submit), as under -k sync.
  virtual bool takes_websockets() const { return true; }
  // False: disconnected() would be news for nobody (WSGI has no way to tell
  // the app), so the engine does not watch the client while the app holds
  // a request (an epoll re-arm and a wake-up fewer per request); a client
  // that went away still fails the app's next write.
  virtual bool wants_disconnect() const { return true; }
};

struct AppOptions {
  std::string spec;  // "module:app", "module:create_app()", "native:/p/lib.so[?args]"
  std::string chdir;
  std::vector<std::string> pythonpath;
  std::string virtualenv;  // also from $VIRTUAL_ENV
  bool reload = false;     // development mode
  std::vector<std::string> reload_extra_files;  // --reload-extra-file globs, watched with the modules
  unsigned threads = 1;    // app threads (wsgi.multithread = threads > 1)
  bool multiprocess = true;
  // -k asgi: an ASGI 3 app on an asyncio loop (worker/asgi/).
  bool asgi = false;
  std::string asgi_loop = "auto";  // auto|asyncio|uvloop
  std::string lifespan = "auto";   // auto|on|off (uvicorn's)
  std::string root_path;           // scope["root_path"]
  // -k gevent / -k eventlet: a WSGI app on that library's green threads
  // (worker/green/), at most `green_connections` at once; "" otherwise.
  std::string green;
  unsigned green_connections = 1000;
};

class Application {
 public:
  virtual ~Application() = default;
  // On an app thread; called concurrently from several when threads > 1.
  // Exceptions other than ClientGone are the engine's to log (500 if the
  // response is not committed, close the connection otherwise).
  virtual void handle(Request& request, ResponseWriter& response) = 0;
  // On each app thread once before its first and after its last request.
  virtual void thread_started() {}
  virtual void thread_stopping() {}
  // On an app thread of the pool: before it takes a request, and once the
  // queue is empty (before it sleeps). A pool thread holds its turn across
  // back-to-back requests, and runs handle() within it (an inline handle()
  // on the I/O thread runs without one). A WSGI app's turn is the GIL,
  // which its handle() then need not take or give back (it still gives it
  // up while it waits for the client, and Python code while it blocks).
  virtual void take_turn() {}
  virtual void end_turn() {}
  // Once, on the main thread, after the last request.
  virtual void shutdown() {}
  // True when the engine may call handle() on its I/O thread, for a request
  // whose body is already buffered while no app thread holds a request:
  // two thread hand-offs fewer per request. While it runs the worker serves
  // no other connection (Gunicorn's sync model); its output goes to the
  // connection's outbox, and it blocks only while a client leaves more
  // than the outbox's bound unread (up to the write timeout). Chosen by quick handlers
  // (native GF_APP_INLINE) and by a WSGI app with one app thread.
  virtual bool runs_inline() const { return false; }
  // An async app kind (ASGI): the engine hands it requests as
  // AsyncExchanges instead of running handle() on app threads.
  virtual AsyncApplication* async() { return nullptr; }
};

// Loads `options.spec`: "native:" → worker/native, options.asgi → ASGI,
// anything else → WSGI.
// A failure message is what the worker prints before exiting 4.
StatusOr<std::unique_ptr<Application>> load_application(const AppOptions& options,
                                                         WorkerHost& host);

// The Python WSGI loader (worker/wsgi/, library gf_wsgi): every spec that is
// not "native:". load_application() calls it; a gworker built without
// gf_wsgi answers "Python apps not built" instead.
StatusOr<std::unique_ptr<Application>> load_wsgi_application(const AppOptions& options,
                                                              WorkerHost& host);

// The Python ASGI loader (worker/asgi/, library gf_asgi): runs the lifespan
// startup before it returns (a failure is the load's failure).
StatusOr<std::unique_ptr<Application>> load_asgi_application(const AppOptions& options,
                                                              WorkerHost& host);

// The green-thread WSGI loader (worker/green/, library gf_green): monkey
// patches with options.green's library, then imports the app.
StatusOr<std::unique_ptr<Application>> load_green_application(const AppOptions& options,
                                                               WorkerHost& host);

}  // namespace greenfork::worker
