// Offload: how a handler running on an I/O thread hands the rest of a request to a compartment
// (core::BoundedExecutor) instead of blocking that thread. The handler returns
// Offload{compartment, work}; the server submits `work` to the compartment, suspends the
// connection's coroutine (the I/O thread serves other connections meanwhile) and resumes it on
// the connection's strand with the Response `work` produced. A full or shut-down compartment
// answers 503 with Retry-After (the compartment's hint) at once; a throwing `work` answers 500.
// Plain types only: no Asio in this header.
#pragma once

#include <functional>
#include <variant>

#include "http/message.h"

namespace keybridge::core {
class BoundedExecutor;
}  // namespace keybridge::core

namespace keybridge::http {

struct Offload {
  // Must outlive the server. nullptr runs `work` inline on the I/O thread.
  core::BoundedExecutor* compartment = nullptr;
  // Runs on a compartment thread. It may capture the handler's Request by reference: the request
  // stays alive and untouched until `work` has returned.
  std::function<Response()> work;
};

// What an offloading handler returns: an answer now, or work to finish elsewhere.
using Reply = std::variant<Response, Offload>;

// A handler that may offload. A distinct type (not a bare std::function) so that passing a
// plain Handler lambda to http::Server stays unambiguous.
struct OffloadingHandler {
  std::function<Reply(Request&)> handle;
};

}  // namespace keybridge::http
