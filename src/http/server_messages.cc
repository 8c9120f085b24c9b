#include "http/server_messages.h"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <utility>

#include "core/text.h"
#include "http/error_response.h"

namespace keybridge::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// Parse failures that mean "the client sent something that is not HTTP" (answered with 400), as
// opposed to the connection going away or timing out (closed silently).
bool IsMalformedRequest(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()
         && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message
         && ec != bhttp::error::need_more;
}

}  // namespace

Request ToRequest(bhttp::request<bhttp::string_body>& message, const std::string& remote) {
  Request request;
  request.method = std::string(message.method_string());
  const std::string_view target = message.target();
  const std::size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    request.raw_query = std::string(target.substr(question + 1));
  }
  for (const auto& field : message) {
    request.headers.push_back({core::AsciiLower(field.name_string()), std::string(field.value())});
  }
  request.body = std::move(message.body());
  request.remote_address = remote;
  return request;
}

std::optional<Response> ResponseForReadError(const beast::error_code& ec) {
  if (ec == asio::error::timed_out) {
    return ErrorResponse(408, "Request header not received in time");
  }
  if (ec == bhttp::error::body_limit) {
    return ErrorResponse(
        core::MakeError(core::ErrorCode::kPayloadTooLarge, "Request body too large"));
  }
  if (ec == bhttp::error::header_limit) {
    return ErrorResponse(431, "Request header fields too large");
  }
  if (IsMalformedRequest(ec)) {
    return ErrorResponse(400, "Malformed HTTP request");
  }
  return std::nullopt;
}

}  // namespace keybridge::http
