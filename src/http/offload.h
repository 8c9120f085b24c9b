// Offload: how a handler running on an I/O thread hands the rest of a request to a compartment
// (core::BoundedExecutor) instead of blocking that thread. The handler returns
// Offload{compartment, work}; the server submits `work` to the compartment, suspends the
// connection's coroutine (the I/O thread serves other connections meanwhile) and resumes it on
// the connection's strand with the Response `work` produced. `work` may itself answer with
// another Offload, to continue in a second compartment (a token read that finds its token expired
// moves on to the provider compartment, so reads of fresh tokens never queue behind a slow
// provider). A full or shut-down compartment answers 503 with Retry-After (the compartment's hint)
// at once; a throwing `work` answers 500. Plain types only: no Asio in this header.
#pragma once

#include <functional>
#include <utility>
#include <variant>

#include "http/message.h"

namespace keybridge::core {
class BoundedExecutor;
}  // namespace keybridge::core

namespace keybridge::http {

struct Offload;
// What an offloading handler returns: an answer now, or work to finish elsewhere.
using Reply = std::variant<Response, Offload>;

struct Offload {
  // Must outlive the server. nullptr runs `work` on the thread that got the Offload.
  core::BoundedExecutor* compartment = nullptr;
  // Runs on a compartment thread. It may capture the handler's Request by reference: the request
  // stays alive and untouched until the last `work` of the chain has returned.
  std::function<Reply()> work;
};

// Runs a Reply to its final Response on the calling thread, compartments ignored: for tests and
// embedders that call a handler directly. Exceptions propagate.
inline Response RunHere(Reply reply) {
  while (auto* offload = std::get_if<Offload>(&reply)) {
    const std::function<Reply()> work = std::move(offload->work);
    reply = work();
  }
  return std::get<Response>(std::move(reply));
}

// A handler that may offload. A distinct type (not a bare std::function) so that passing a
// plain Handler lambda to http::Server stays unambiguous.
struct OffloadingHandler {
  std::function<Reply(Request&)> handle;
};

}  // namespace keybridge::http
