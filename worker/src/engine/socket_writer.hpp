// SocketWriter: a connection's output side, on the I/O thread. It owns the
// Outbox (response bytes the app handed over), writes it as the socket takes
// it, sends files, and serves an inline app's blocking writes. It shares the
// connection's socket, wake-up Event and Deadline: a wait for the socket to
// take more is a watch that sets the Event, so one coroutine can wait for
// "the app asked something, or the client read" at once.
//
// The watch's handler touches the writer: its owner, after closing the
// socket, awaits the Event until watching() is false before going away.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/generic/stream_protocol.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "engine/deadline.hpp"
#include "engine/event.hpp"
#include "engine/exchange.hpp"
#include "engine/outbox.hpp"
#include "engine/transport.hpp"

namespace greenfork::worker {

class SocketWriter final : public Exchange::InlineIo {
 public:
  SocketWriter(asio::generic::stream_protocol::socket& socket, Event& wake, Deadline& deadline,
               std::chrono::milliseconds write_timeout)
      : socket_(socket), wake_(wake), deadline_(deadline), write_timeout_(write_timeout) {}
  SocketWriter(const SocketWriter&) = delete;
  SocketWriter& operator=(const SocketWriter&) = delete;

  Outbox& outbox() { return outbox_; }
  // From the end of the TLS handshake on, bytes go through `tls`.
  void use_tls(tls::TlsStream* tls) { tls_ = tls; }
  // A watch_writable() wait is pending.
  bool watching() const { return watching_; }

  // One round of non-blocking sends, keeping the write deadline.
  Outbox::Send pump();
  // Sets the wake-up Event once the socket takes more bytes.
  void watch_writable();
  // Writes the outbox out; false when the client is gone or took nothing
  // for the write timeout (the reaper closed the socket).
  asio::awaitable<bool> drain();
  // Queues `data` behind the outbox and writes it all out.
  asio::awaitable<bool> write_all(std::string_view data);
  // After the outbox: `file` with sendfile().
  asio::awaitable<bool> send_file(const Exchange::FileSlice& file);

  // Exchange::InlineIo: for an app running on the I/O thread, which can
  // only block (up to the write timeout without progress).
  bool hand_over(std::string& bytes) override;
  bool hand_over(std::string& head, std::string_view body) override;
  bool send_file_now(const Exchange::FileSlice& file) override;

 private:
  Transport transport() const { return {socket_.native_handle(), tls_}; }
  // Over TLS a file goes through the outbox (no sendfile): its next piece,
  // up to kFilePiece bytes read at `offset`; false on a read error or a
  // file shorter than promised.
  bool read_piece(const Exchange::FileSlice& file, off_t& offset, uint64_t& left);

  asio::generic::stream_protocol::socket& socket_;
  Event& wake_;
  Deadline& deadline_;
  std::chrono::milliseconds write_timeout_;
  tls::TlsStream* tls_ = nullptr;
  Outbox outbox_;
  bool watching_ = false;
};

}  // namespace greenfork::worker
