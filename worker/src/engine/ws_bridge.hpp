// WsBridge: one WebSocket between the engine and an async app (ASGI): the
// AsyncWebSocket the app's loop thread drives, and the WsHandler of the
// WsSession on the I/O thread. State shared by both threads sits under a
// mutex; what the app asks of the socket is posted to the I/O thread, each
// post holding the bridge, so a post that runs after the connection ended
// finds the bridge (and does nothing with a finished session).
//
// Back-pressure: the app's send_state() is 1 while more than
// `send_bound` bytes wait (posted or queued in the session), and a wake
// follows the drain; reading pauses while `max_inbox` messages wait for the
// app's receive() and resumes at half of it.
#pragma once

#include <asio/io_context.hpp>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/event.hpp"
#include "greenfork/worker/app.hpp"
#include "websocket/session.hpp"

namespace greenfork::worker {

class WsBridge final : public AsyncWebSocket,
                       public websocket::WsHandler,
                       public std::enable_shared_from_this<WsBridge> {
 public:
  // What the app decided before the 101 (I/O thread).
  struct Decision {
    enum Kind { kNone, kAccept, kClose, kFail, kDone, kDeny };
    Kind kind = kNone;
    std::optional<std::string> subprotocol;
    std::vector<Header> headers;  // kAccept's extra ones, kDeny's response's
    int status = 0;               // kDeny
    std::string body;             // kDeny
  };

  WsBridge(asio::io_context& io, AsyncApplication& app, Request request,
           std::vector<std::string> subprotocols, size_t max_inbox, size_t send_bound);

  // ---- AsyncWebSocket (the app's thread) ----
  const Request& head() const override { return request_; }
  const std::vector<std::string>& subprotocols() const override { return subprotocols_; }
  void accept(std::optional<std::string> subprotocol, std::vector<Header> headers) override;
  void send_message(bool text, std::string data) override;
  int send_state() override;
  Message take_message() override;
  void want_message() override;
  void close(uint16_t code, std::string reason) override;
  void deny(int status, std::vector<Header> headers, std::string body) override;
  void fail() override;
  void done() override;

  // ---- WsHandler (I/O thread) ----
  void on_message(bool text, std::string data) override;
  void on_closed(uint16_t code, const std::string& reason) override;
  void on_drained() override;

  // ---- the Connection's (I/O thread) ----
  Decision decision;
  bool app_done = false;
  Event event;  // set on a decision and on done()
  // The session after the 101: what the app sent or asked meanwhile goes to it.
  void attach(std::shared_ptr<websocket::WsSession> session);
  // The connection ended (or never opened): on_closed() unless it ran.
  void end(uint16_t code) {
    if (!closed_seen_) on_closed(code, "");
  }

 private:
  template <typename F>
  void post(F f);
  void wake() { app_.ws_wake(*this); }

  asio::io_context& io_;
  AsyncApplication& app_;
  Request request_;
  std::vector<std::string> subprotocols_;
  const size_t max_inbox_;
  const size_t send_bound_;
  std::shared_ptr<websocket::WsSession> session_;  // I/O thread
  bool closed_seen_ = false;                       // I/O thread
  // Accepted, the 101 not written yet (I/O thread): held for attach().
  std::vector<std::pair<bool, std::string>> early_;
  std::optional<std::pair<uint16_t, std::string>> early_close_;

  std::mutex mu_;  // guards what follows
  std::deque<std::pair<bool, std::string>> inbox_;
  bool closed_ = false;
  uint16_t code_ = 0;
  std::string reason_;
  bool want_ = false;
  bool drain_wanted_ = false;
  size_t in_transit_ = 0;      // posted by send_message(), not yet in the session
  size_t session_queued_ = 0;  // the session's queued_bytes() after its last send
  bool paused_ = false;
};

}  // namespace greenfork::worker
