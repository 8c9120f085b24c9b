#include "http/offload_chain.h"

#include <exception>
#include <string>
#include <utility>
#include <variant>

#include "http/error_response.h"

namespace keybridge::http {
namespace {

// The answer for a compartment that refused work (503, or 429 for a rationing compartment) with
// the compartment's Retry-After.
Response Refused(core::Error error, std::chrono::seconds retry_after) {
  if (!error.retry_after) {
    error.WithRetryAfter(retry_after);
  }
  return ErrorResponse(error);
}

// Submits `work` to `compartment`; a refusal (full, or shut down) completes the chain with 503
// and the compartment's Retry-After.
void Submit(const std::shared_ptr<OffloadChain>& chain, core::BoundedExecutor& compartment,
            std::function<Reply()> work) {
  const std::chrono::seconds retry_after = compartment.retry_after();
  std::function<core::Result<Reply>()> run = [work = std::move(work)]() -> core::Result<Reply> {
    return work();
  };
  core::Status accepted = compartment.TrySubmit<Reply>(
      std::move(run), [chain, retry_after, name = compartment.name()](core::Result<Reply> result) {
        if (!result.ok()) {
          if (result.error().code == core::ErrorCode::kUnavailable) {
            chain->complete(Refused(result.error(), retry_after));  // shut down before it ran
          } else {
            // A throwing task is a bug: the client gets a 500 and the log the reason.
            chain->logger->error("offloaded work in compartment {} failed: {}", name,
                                 result.error().detail);
            chain->complete(ErrorResponse(result.error()));
          }
          return;
        }
        Reply reply = std::move(result).value();
        if (auto* next = std::get_if<Offload>(&reply)) {
          Offload offload = std::move(*next);
          Continue(chain, [offload = std::move(offload)]() -> Reply { return offload; });
          return;
        }
        chain->complete(std::get<Response>(std::move(reply)));
      });
  if (!accepted.ok()) {
    chain->complete(Refused(accepted.error(), retry_after));
  }
}

}  // namespace

void Continue(const std::shared_ptr<OffloadChain>& chain, const std::function<Reply()>& work) {
  // Bounded: each step either completes, submits (ending this loop) or runs inline work that a
  // handler chose to run here.
  Reply reply = ErrorResponse(core::MakeError(core::ErrorCode::kInternal, ""));
  try {
    reply = work();
  } catch (const std::exception& e) {
    chain->logger->error("offloaded work threw: {}", e.what());
  } catch (...) {
    chain->logger->error("offloaded work threw a non-exception");
  }
  while (auto* offload = std::get_if<Offload>(&reply)) {
    if (!offload->work) {
      chain->logger->error("handler offloaded no work; answering 500");
      reply = ErrorResponse(core::MakeError(core::ErrorCode::kInternal, ""));
      break;
    }
    if (offload->compartment != nullptr) {
      Submit(chain, *offload->compartment, std::move(offload->work));
      return;
    }
    std::function<Reply()> inline_work = std::move(offload->work);
    try {
      reply = inline_work();
    } catch (const std::exception& e) {
      chain->logger->error("offloaded work threw: {}", e.what());
      reply = ErrorResponse(core::MakeError(core::ErrorCode::kInternal, ""));
    } catch (...) {
      chain->logger->error("offloaded work threw a non-exception");
      reply = ErrorResponse(core::MakeError(core::ErrorCode::kInternal, ""));
    }
  }
  chain->complete(std::get<Response>(std::move(reply)));
}

}  // namespace keybridge::http
