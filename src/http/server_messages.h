// The edge between Beast's messages and keybridge's: a parsed request copied into http::Request,
// and which read errors deserve an answer. Private to the http module (server.cc and
// server_messages.cc are its only Beast users).
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>

#include "http/message.h"

namespace keybridge::http {

// Copies a parsed Beast request into the Beast-free type handlers see.
Request ToRequest(boost::beast::http::request<boost::beast::http::string_body>& message,
                  const std::string& remote);

// The error response for a failed read, or nullopt when the connection should just be closed
// (end of stream, idle timeout, reset, shutdown). asio::error::timed_out is the server's own
// code for "part of a header arrived, not all of it within header_timeout".
std::optional<Response> ResponseForReadError(const boost::beast::error_code& ec);

}  // namespace keybridge::http
