// The offload chain behind http::Offload (offload.h), without Asio: the server starts a chain
// with the Offload a handler returned; each step runs on its compartment and either completes the
// chain with a Response or hands on to the next compartment. Private to the http module (only
// server.cc includes it).
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <memory>

#include "core/bounded_executor.h"
#include "core/error.h"
#include "http/message.h"
#include "http/offload.h"

namespace keybridge::http {

// The rest of one request's life across compartments: `complete` hands the final Response back
// to the connection's coroutine (posted to its strand) exactly once.
struct OffloadChain {
  std::function<void(Response)> complete;
  std::shared_ptr<spdlog::logger> logger;
};

// Runs `work` (already on some thread) and goes on with what it answered: a Response completes
// the chain; another Offload is submitted to its compartment or, without one, run right here.
void Continue(const std::shared_ptr<OffloadChain>& chain, const std::function<Reply()>& work);

}  // namespace keybridge::http
