// Exchange: one request and its response, shared by the connection's
// coroutine (I/O thread) and the app thread that runs the application.
//
// Hand-off protocol: the app thread asks the I/O thread for one thing at a
// time (flush output, read body, send a file) by setting `op` and posting a
// wake-up, then blocks until the I/O thread acks; while it is blocked the
// I/O thread owns the buffers. finish()/abort() post a final op and the app
// thread never touches the Exchange again. A response that completes in one
// go therefore costs exactly one post back to the I/O thread and one write.
//
// Inline mode (Application::runs_inline, body already complete, no request
// on the app threads): handle() runs on the I/O thread itself, as in
// Gunicorn's sync worker. Nothing is posted; output past kFlushBytes (or a
// flush) is handed to the connection's outbox through InlineIo, which
// blocks only while the outbox is over its bound; a file is sent at once.
//
// Async mode (Context::async_app, an ASGI app): the app's thread never
// waits. It calls the AsyncExchange interface; an op it posts is acked to
// AsyncApplication::io_done() instead of waking a blocked thread.
//
// Output handed over is the connection's: the app goes on (or is done)
// while the I/O thread writes it, so a client that stops reading holds an
// app thread only through the outbox's bound (see outbox.hpp).
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/body_spool.hpp"
#include "greenfork/worker/app.hpp"
#include "http/response_head.hpp"

namespace greenfork::worker {

class Exchange final : public ResponseWriter, public BodyReader, public AsyncExchange {
 public:
  enum class Op { kNone, kFlush, kReadBody, kSendFile, kFinish, kAbort };

  struct FileSlice {
    int fd = -1;
    off_t offset = 0;
    uint64_t count = 0;
  };

  // The connection's output, for an app running inline on the I/O thread.
  // false: the client is gone or the write timed out.
  class InlineIo {
   public:
    // Takes `bytes` (left empty) into the outbox.
    virtual bool hand_over(std::string& bytes) = 0;
    // hand_over(head) then `body`, which is the app's and valid only for
    // the call: written from where it is as far as the socket takes it at
    // once, only the rest copied into the outbox.
    virtual bool hand_over(std::string& head, std::string_view body) = 0;
    virtual bool send_file_now(const FileSlice& file) = 0;

   protected:
    ~InlineIo() = default;
  };

  // Bytes of output buffered before the app thread hands them to the I/O
  // thread (and blocks until written): back-pressure for large responses.
  static constexpr size_t kFlushBytes = 64 * 1024;

  struct Context {
    void (*wake)(void* arg) = nullptr;  // posts "look at op" to the I/O thread
    void* wake_arg = nullptr;
    const std::atomic<bool>* stopping = nullptr;  // graceful stop: answer with close
    WorkerHost* host = nullptr;
    InlineIo* inline_io = nullptr;  // required for inline mode
    AsyncApplication* async_app = nullptr;  // async mode: acks go to io_done()
  };

  Exchange() = default;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // I/O thread, before dispatch.
  void reset(const Context& context, bool inline_mode);
  // I/O thread, between requests: gives back any buffer grown past
  // 128 KiB (reset() empties them). Called after every request: a 1 MiB
  // body's buffers kept by each of 64 keep-alive connections made 150 MiB
  // per worker; freed, malloc hands the same memory to the next big
  // request (the mmap threshold adapts after the first), so the echo costs
  // no more CPU. True when a buffer was given back.
  bool release_buffers();
  Request request;

  // App side: runs the app with the engine's error policy.
  void run(Application& app);

  // ResponseWriter
  Status start(int status, std::string_view reason, std::vector<Header> headers) override;
  std::vector<Header> header_buffer() override { return std::move(spare_headers_); }
  void write(const char* data, size_t len) override;
  void send_file(int fd, off_t offset, uint64_t count) override;
  void flush() override;
  void finish() override;
  size_t room() const override {
    if (finished_ || aborted_ || gone_) return 0;
    const size_t used = body_buf_.size() + out_.size();  // write() delivers at kFlushBytes
    return used < kFlushBytes ? kFlushBytes - 1 - used : 0;
  }
  bool committed() const override { return committed_; }
  void abort() noexcept override;
  // 103 Early Hints over HTTP/1.1 (exchange_hints.cpp).
  StatusOr<bool> send_early_hints(std::vector<Header> headers) override;
  // BodyReader
  size_t read(char* dst, size_t max) override;
  // AsyncExchange (async mode)
  const Request& head() const override { return request; }
  size_t take_body(char* dst, size_t max, bool& end) override;
  uint64_t body_ready() const override { return body_in_.unread(); }
  void want_body() override { request_op(Op::kReadBody, false); }
  size_t direct_body_room(size_t block) const override {
    if (!direct_ok_ || body_done_ || body_error_ || gone_ || body_in_.has_unread()) return 0;
    return static_cast<size_t>(std::min<uint64_t>(block, body_left()));
  }
  void want_body_into(char* dst, size_t cap) override {
    direct_dst_ = dst;
    direct_cap_ = cap;
    direct_filled_ = 0;
    request_op(Op::kReadBody, false);
  }
  size_t take_direct() override { return std::exchange(direct_filled_, 0); }
  Status start(int status, std::vector<Header> headers) override;
  void send(std::string_view data) override;
  void finish(std::string_view data) override;
  Status pathsend(int fd, uint64_t size) override;
  Status declare_trailers(std::string_view names) override;
  Status finish_trailers(std::vector<Header> trailers) override;
  void fail() override;
  void abort_response() override;
  StatusOr<bool> early_hints(std::vector<Header> headers) override;

  // ---- I/O side ----
  Op take_op();
  // Wake-ups posted with an op whose handler has not run yet: the I/O
  // thread may take an op (any wake-up shows it every pending op) before
  // that op's own post has run, so the owner of the wake-up target must
  // outlive them. The wake handler calls wake_ran().
  unsigned wakes_in_flight() const { return wakes_.load(std::memory_order_acquire); }
  void wake_ran() { wakes_.fetch_sub(1, std::memory_order_release); }
  // Acks a flush/read/sendfile; ok=false makes the app's call throw ClientGone.
  void ack(bool ok);
  std::string& out() { return out_; }          // wire bytes to write, then clear
  // Moves decoded request body bytes in (I/O thread, app not reading).
  // Fails only when a spilled body cannot be written to its file.
  Status add_body(std::string& bytes);
  // A buffered body read straight into the exchange's memory (no copy):
  // room for `want` more bytes (nullptr: not in memory, use add_body()),
  // then `n` bytes were put there.
  char* body_room(size_t want) { return body_in_.room(want); }
  void body_filled(size_t n) {
    body_in_.commit(n);
    body_received_ += n;
  }
  // Before the body is read: the whole body will be read before the app
  // runs, held in memory up to `memory_limit` bytes, past it in an
  // unlinked file in `dir` (empty: $TMPDIR or /tmp).
  void spool_body(uint64_t memory_limit, const std::string* dir) { body_in_.reset(memory_limit, dir); }
  // After the app: closes a spilled body's file and gives back a big
  // body's memory at once (true: it did, malloc may be trimmed).
  bool drop_body();
  // status: what the client gets if nothing was sent yet (400, 413); 0 when
  // the connection itself failed.
  void set_body_error(int status = 0) {
    body_error_ = true;
    if (status != 0) body_error_status_ = status;
  }
  void set_expects_continue(bool on) { request_expects_ = on; }
  void set_body_done() { body_done_ = true; }
  // A Content-Length body of an HTTP/1.1 connection on a plain socket:
  // an async app may have it read straight into its own buffer.
  void allow_direct_body(bool on) { direct_ok_ = on; }
  // The buffer of a pending want_body_into() (null: none), and its size;
  // `n` bytes were put there, taking it (its size stays for take_direct()).
  char* direct_dst() const { return direct_dst_; }
  size_t direct_cap() const { return direct_cap_; }
  void filled_direct(size_t n) {
    direct_filled_ = n;
    body_received_ += n;
    direct_dst_ = nullptr;
  }
  // Content-Length body bytes not yet received.
  uint64_t body_left() const { return request.content_length.value_or(0) - body_received_; }
  void set_inline(bool on) { inline_ = on; }
  // The uwsgi protocol (kept across reset()): the response runs to the
  // connection's close (no chunked framing) and carries no 1xx responses.
  void set_uwsgi(bool on) { uwsgi_ = on; }
  bool has_unread_body() const { return body_in_.has_unread(); }
  bool body_done() const { return body_done_; }
  bool expect_continue_pending() const { return request_expects_ && !sent_100_ && !committed_; }
  void mark_100_sent() { sent_100_ = true; }
  const FileSlice& file() const { return file_; }
  bool finished() const { return finished_; }
  bool aborted() const { return aborted_; }
  bool keep_alive() const { return keep_alive_; }
  bool head_only() const { return head_only_; }
  // A response the connection wrote itself (a WebSocket's 101, or its
  // refusal): what the access log and the counters see.
  void note_response(int status, std::vector<Header> headers, uint64_t body_bytes) {
    head_.status = status;
    head_.headers = std::move(headers);
    body_sent_ = body_bytes;
  }
  int status() const { return head_.status; }
  uint64_t body_bytes_sent() const { return body_sent_; }
  const http::AppHead& response_head() const { return head_; }
  // HTTP/2: the 103 Early Hints fields the app gave since the last op, for
  // the stream layer to send as a non-final HEADERS frame (left empty).
  std::vector<Header> take_early_hints() { return std::exchange(h2_hints_, {}); }

 private:
  void request_op(Op op, bool wait);
  // Hands out_ (and file_ for kSendFile) to the client: at once when
  // inline, through the I/O thread otherwise. Throws ClientGone.
  void deliver(Op op);
  void commit(bool final);
  void frame_pending_body();
  // Frames `body` (Content-Length budget, chunk header) into out_.
  void frame_body(std::string_view body);
  // Inline, unchunked: out_ and then the app's `body` to the client
  // without copying it into out_ first. Throws ClientGone.
  void write_inline(std::string_view body);
  void fail_500();
  // Checks the hints and appends their 103 head to out_; false when this
  // request cannot take one (see ResponseWriter::send_early_hints).
  StatusOr<bool> frame_early_hints(std::vector<Header> headers);
  // The request takes trailer fields: HTTP/1.1 with "TE: trailers".
  bool trailers_wanted() const;

  Context ctx_{};
  bool inline_ = false;
  bool uwsgi_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  Op op_ = Op::kNone;
  std::atomic<unsigned> wakes_{0};  // not reset between requests
  bool acked_ = false;
  bool ack_ok_ = true;

  bool started_ = false;
  bool committed_ = false;
  std::vector<Header> h2_hints_;  // take_early_hints()
  bool finished_ = false;
  bool aborted_ = false;
  bool gone_ = false;  // an I/O op failed: reads and writes throw ClientGone
  bool keep_alive_ = true;
  bool head_only_ = false;
  bool no_body_ = false;
  bool chunked_ = false;
  bool request_expects_ = false;
  bool sent_100_ = false;
  bool body_done_ = false;
  bool body_error_ = false;
  int body_error_status_ = 0;
  uint64_t body_received_ = 0;
  bool direct_ok_ = false;
  char* direct_dst_ = nullptr;  // want_body_into()
  size_t direct_cap_ = 0;
  size_t direct_filled_ = 0;
  http::AppHead head_;
  std::vector<Header> spare_headers_;  // the last response's, for header_buffer()
  std::string body_buf_;  // raw body bytes not yet framed
  std::string out_;       // framed bytes ready for the wire
  BodySpool body_in_;     // decoded request body not yet read by the app
  uint64_t body_sent_ = 0;
  std::optional<uint64_t> remaining_;  // Content-Length budget still to send
  FileSlice file_;
};

}  // namespace greenfork::worker
