// ScriptedHttpClient: an HttpClient fake. Routes (method + exact URL) answer with queued or fixed
// responses; every request is recorded so tests can assert what was sent.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/http_client.h"

namespace keybridge::testing {

class ScriptedHttpClient final : public core::HttpClient {
 public:
  // Every request to `url` with `method` answers `response` (after queued ones are used up).
  void Always(std::string method, std::string url, core::HttpResponse response) {
    std::lock_guard lock(mu_);
    fixed_[{std::move(method), std::move(url)}] = std::move(response);
  }
  // The next request to `url` answers `response`; queued responses are used in order.
  void Enqueue(std::string method, std::string url, core::Result<core::HttpResponse> response) {
    std::lock_guard lock(mu_);
    queued_[{std::move(method), std::move(url)}].push_back(std::move(response));
  }

  // Runs `hook` on every request before it is answered (outside the client's lock), e.g. to let
  // something happen while the "provider" is thinking.
  void BeforeAnswer(std::function<void(const core::HttpRequest&)> hook) {
    std::lock_guard lock(mu_);
    before_answer_ = std::move(hook);
  }

  core::Result<core::HttpResponse> Send(const core::HttpRequest& request) override {
    std::function<void(const core::HttpRequest&)> hook;
    {
      std::lock_guard lock(mu_);
      hook = before_answer_;
    }
    if (hook) {
      hook(request);
    }
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    const auto key = std::make_pair(request.method, request.url);
    if (auto it = queued_.find(key); it != queued_.end() && !it->second.empty()) {
      auto response = std::move(it->second.front());
      it->second.pop_front();
      return response;
    }
    if (auto it = fixed_.find(key); it != fixed_.end()) {
      return it->second;
    }
    return core::MakeError(core::ErrorCode::kUnavailable, "no scripted response",
                           request.method + " " + request.url);
  }

  std::vector<core::HttpRequest> Requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::size_t CountRequests(const std::string& url) const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& r : requests_) {
      n += r.url == url ? 1U : 0U;
    }
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, core::HttpResponse> fixed_;
  std::map<std::pair<std::string, std::string>, std::deque<core::Result<core::HttpResponse>>>
      queued_;
  std::vector<core::HttpRequest> requests_;
  std::function<void(const core::HttpRequest&)> before_answer_;
};

inline core::HttpResponse JsonResponse(int status, std::string body) {
  core::HttpResponse r;
  r.status = status;
  r.headers.push_back({"content-type", "application/json"});
  r.body = std::move(body);
  return r;
}

}  // namespace keybridge::testing
