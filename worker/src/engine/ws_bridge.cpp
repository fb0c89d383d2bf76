#include "engine/ws_bridge.hpp"

#include <asio/post.hpp>

namespace greenfork::worker {

WsBridge::WsBridge(asio::io_context& io, AsyncApplication& app, Request request,
                   std::vector<std::string> subprotocols, size_t max_inbox, size_t send_bound)
    : event(io.get_executor()),
      io_(io),
      app_(app),
      request_(std::move(request)),
      subprotocols_(std::move(subprotocols)),
      max_inbox_(max_inbox),
      send_bound_(send_bound) {}

template <typename F>
void WsBridge::post(F f) {
  asio::post(io_, [self = shared_from_this(), f = std::move(f)]() mutable { f(*self); });
}

void WsBridge::attach(std::shared_ptr<websocket::WsSession> session) {
  session_ = std::move(session);
  for (auto& [text, data] : early_) session_->send(text, data);
  early_.clear();
  if (early_close_) {
    session_->close(early_close_->first, early_close_->second);
  } else if (app_done) {
    session_->close(websocket::close_code::kNormal);
  }
}

void WsBridge::accept(std::optional<std::string> subprotocol, std::vector<Header> headers) {
  post([subprotocol = std::move(subprotocol), headers = std::move(headers)](WsBridge& b) mutable {
    if (b.decision.kind != Decision::kNone) return;
    b.decision.kind = Decision::kAccept;
    b.decision.subprotocol = std::move(subprotocol);
    b.decision.headers = std::move(headers);
    b.event.set();
  });
}

void WsBridge::send_message(bool text, std::string data) {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    in_transit_ += data.size();
  }
  post([text, data = std::move(data)](WsBridge& b) {
    if (b.session_) {
      b.session_->send(text, data);
    } else if (b.decision.kind == Decision::kAccept) {
      b.early_.emplace_back(text, data);
    }
    bool notify = false;
    {
      const std::lock_guard<std::mutex> lock(b.mu_);
      b.in_transit_ -= data.size();
      b.session_queued_ = b.session_ ? b.session_->queued_bytes() : 0;
      if (b.drain_wanted_ && b.in_transit_ + b.session_queued_ <= b.send_bound_) {
        b.drain_wanted_ = false;
        notify = true;
      }
    }
    if (notify) b.wake();
  });
}

int WsBridge::send_state() {
  const std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return 2;
  if (in_transit_ + session_queued_ <= send_bound_) return 0;
  drain_wanted_ = true;
  return 1;
}

AsyncWebSocket::Message WsBridge::take_message() {
  Message m;
  bool resume = false;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (!inbox_.empty()) {
      m.kind = inbox_.front().first ? Message::kText : Message::kBinary;
      m.data = std::move(inbox_.front().second);
      inbox_.pop_front();
      if (paused_ && inbox_.size() <= max_inbox_ / 2) {
        paused_ = false;
        resume = true;
      }
    } else if (closed_) {
      m.kind = Message::kClosed;
      m.code = code_;
      m.reason = reason_;
    }
  }
  if (resume) {
    post([](WsBridge& b) {
      if (b.session_) b.session_->resume_reading();
    });
  }
  return m;
}

void WsBridge::want_message() {
  bool notify = false;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (!inbox_.empty() || closed_) {
      notify = true;
    } else {
      want_ = true;
    }
  }
  if (notify) wake();
}

void WsBridge::close(uint16_t code, std::string reason) {
  post([code, reason = std::move(reason)](WsBridge& b) {
    if (b.session_) {
      b.session_->close(code, reason);
    } else if (b.decision.kind == Decision::kAccept) {
      if (!b.early_close_) b.early_close_.emplace(code, reason);
    } else if (b.decision.kind == Decision::kNone) {
      b.decision.kind = Decision::kClose;
      b.event.set();
    }
  });
}

void WsBridge::deny(int status, std::vector<Header> headers, std::string body) {
  post([status, headers = std::move(headers), body = std::move(body)](WsBridge& b) mutable {
    if (b.decision.kind != Decision::kNone) return;
    b.decision.kind = Decision::kDeny;
    b.decision.status = status;
    b.decision.headers = std::move(headers);
    b.decision.body = std::move(body);
    b.event.set();
  });
}

void WsBridge::fail() {
  post([](WsBridge& b) {
    if (b.session_) {
      b.session_->close(websocket::close_code::kInternalError);
    } else if (b.decision.kind == Decision::kAccept) {
      if (!b.early_close_) b.early_close_.emplace(websocket::close_code::kInternalError, "");
    } else if (b.decision.kind == Decision::kNone) {
      b.decision.kind = Decision::kFail;
      b.event.set();
    }
  });
}

void WsBridge::done() {
  post([](WsBridge& b) {
    b.app_done = true;
    if (b.session_) {
      b.session_->close(websocket::close_code::kNormal);
    } else if (b.decision.kind == Decision::kNone) {
      b.decision.kind = Decision::kDone;
    }
    b.event.set();
  });
}

void WsBridge::on_message(bool text, std::string data) {
  bool notify = false;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    inbox_.emplace_back(text, std::move(data));
    if (inbox_.size() >= max_inbox_ && !paused_ && session_) {
      paused_ = true;
      session_->pause_reading();
    }
    notify = want_;
    want_ = false;
  }
  if (notify) wake();
}

void WsBridge::on_closed(uint16_t code, const std::string& reason) {
  closed_seen_ = true;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    code_ = code;
    reason_ = reason;
    want_ = false;
    drain_wanted_ = false;
  }
  wake();
  event.set();
}

void WsBridge::on_drained() {
  bool notify = false;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    session_queued_ = 0;
    notify = drain_wanted_ && in_transit_ <= send_bound_;
    if (notify) drain_wanted_ = false;
  }
  if (notify) wake();
}

}  // namespace greenfork::worker
