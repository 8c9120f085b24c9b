// Server with OffloadingHandler: work handed to a core::BoundedExecutor compartment
// (http/offload.h) neither blocks the I/O threads nor queues past the compartment's limit.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/bounded_executor.h"
#include "http/offload.h"
#include "http/server.h"
#include "http/server_test_support.h"

namespace keybridge::http {
namespace {

using server_test_support::Echo;
using server_test_support::Exchange;
using server_test_support::Get;
using server_test_support::RawClient;
using server_test_support::RawResponse;

// Holds every task that calls Wait() until Open().
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mutex_);
    ++inside_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void WaitUntilInside(int n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return inside_ >= n; });
  }
  void Open() {
    const std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int inside_ = 0;
  bool open_ = false;
};

core::BoundedExecutorOptions Compartment(std::size_t threads, std::size_t queue) {
  core::BoundedExecutorOptions options;
  options.name = "probe";
  options.threads = threads;
  options.queue_capacity = queue;
  options.retry_after = std::chrono::seconds(7);
  return options;
}

TEST(ServerOffload, ABlockedCompartmentNeitherStopsInlineHandlersNorQueuesPastItsLimit) {
  core::BoundedExecutor compartment(Compartment(1, 0));
  Gate gate;
  ServerOptions options;
  options.worker_threads = 1;  // one I/O thread: had /slow blocked it, /healthz could not answer
  Server server(options, OffloadingHandler{[&](Request& request) -> Reply {
                  if (request.path == "/slow") {
                    return Offload{&compartment, [&] {
                                     gate.Wait();
                                     return Response::Json(200, R"({"slow":true})");
                                   }};
                  }
                  return Response::Json(200, R"({"inline":true})");
                }});
  server.Start();

  std::optional<RawResponse> slow;
  std::thread waiting([&] { slow = Exchange(server.port(), Get("/slow")); });
  gate.WaitUntilInside(1);
  auto health = Exchange(server.port(), Get("/healthz"));
  auto refused = Exchange(server.port(), Get("/slow"));
  gate.Open();
  waiting.join();

  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"inline":true})");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("retry-after"), "7");
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->body, R"({"slow":true})");
  EXPECT_EQ(compartment.Stats().rejected, 1U);
}

TEST(ServerOffload, WorkMayContinueInASecondCompartmentWhoseRefusalIsAnsweredAtOnce) {
  core::BoundedExecutor first(Compartment(1, 4));
  core::BoundedExecutorOptions second_options = Compartment(1, 0);
  second_options.name = "provider";
  second_options.retry_after = std::chrono::seconds(3);
  core::BoundedExecutor second(second_options);
  Gate gate;
  Server server(ServerOptions{}, OffloadingHandler{[&](Request& request) -> Reply {
                  return Offload{&first, [&]() -> Reply {
                                   // The first step read; the rest must wait on the outside.
                                   return Offload{&second, [&]() -> Reply {
                                                    if (request.path == "/held") {
                                                      gate.Wait();
                                                    }
                                                    return Echo(request);
                                                  }};
                                 }};
                }});
  server.Start();

  std::optional<RawResponse> held;
  std::thread waiting([&] { held = Exchange(server.port(), Get("/held")); });
  gate.WaitUntilInside(1);
  auto refused = Exchange(server.port(), Get("/second-is-full"));
  gate.Open();
  waiting.join();

  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->status, 200);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("retry-after"), "3") << "the second compartment's hint";
  EXPECT_EQ(second.Stats().rejected, 1U);  // counted before the refusal is answered
}

TEST(ServerOffload, OffloadedWorkSeesTheRequestAndAThrowOnlyFailsItsOwnRequest) {
  core::BoundedExecutor compartment(Compartment(1, 4));
  ServerOptions options;
  options.worker_threads = 1;
  Server server(options, OffloadingHandler{[&](Request& request) -> Reply {
                  if (request.path == "/throw") {
                    return Offload{&compartment, []() -> Response {
                                     throw std::runtime_error("offloaded bug");
                                   }};
                  }
                  if (request.path == "/inline-offload") {
                    return Offload{nullptr, [&request] {
                                     return Echo(request);
                                   }};
                  }
                  return Offload{&compartment, [&request] {
                                   return Echo(request);
                                 }};
                }});
  server.Start();
  RawClient client(server.port());

  client.Send(Get("/throw") + Get("/echo?x=1") + Get("/inline-offload"));
  auto thrown = client.Read();
  auto echoed = client.Read();
  auto inline_echoed = client.Read();

  ASSERT_TRUE(thrown.has_value());
  EXPECT_EQ(thrown->status, 500);
  EXPECT_EQ(nlohmann::json::parse(thrown->body)["error"]["code"], 1500);
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->status, 200);
  EXPECT_EQ(nlohmann::json::parse(echoed->body)["path"], "/echo");
  EXPECT_EQ(nlohmann::json::parse(echoed->body)["query"], "x=1");
  ASSERT_TRUE(inline_echoed.has_value());
  EXPECT_EQ(nlohmann::json::parse(inline_echoed->body)["path"], "/inline-offload");
}

TEST(ServerOffload, WorkDroppedByACompartmentShutdownIsAnswered503) {
  core::BoundedExecutor compartment(Compartment(1, 1));
  Gate gate;
  Server server(ServerOptions{}, OffloadingHandler{[&](Request& request) -> Reply {
                  if (request.path == "/hold") {
                    return Offload{&compartment, [&] {
                                     gate.Wait();
                                     return Response::Json(200, "{}");
                                   }};
                  }
                  return Offload{&compartment, [] {
                                   return Response::Json(200, "{}");
                                 }};
                }});
  server.Start();
  std::optional<RawResponse> held;
  std::thread holder([&] { held = Exchange(server.port(), Get("/hold")); });
  gate.WaitUntilInside(1);
  RawClient queued(server.port());
  queued.Send(Get("/queued"));
  // The queued request is in the compartment once its queue counter shows it.
  while (compartment.Stats().queued == 0) {
    std::this_thread::yield();
  }

  std::thread stopper([&] { compartment.Shutdown(); });
  auto dropped = queued.Read();
  gate.Open();
  stopper.join();
  holder.join();

  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->status, 503);
  EXPECT_EQ(dropped->Header("retry-after"), "7");
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->status, 200);
}

}  // namespace
}  // namespace keybridge::http
