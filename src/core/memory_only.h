// MemoryOnlyScope: marks the current thread as one that must not wait (an I/O thread running the
// first, memory-only attempt of a kMemoryFirst route; routes/route_table.h). While a scope is
// alive on a thread, everything that would wait on the outside world answers
// ErrorCode::kWouldWait instead: a database query (storage::PooledDatabase), a JWKS fetch
// (identity::JwtVerifier), a token refresh (service::TokenService). The route table then runs the
// request again where waiting is allowed. It is ambient (thread-local) on purpose: the guarantee
// "an I/O thread never waits on the database" is then enforced at the one place every query
// passes, not by every caller remembering a flag.
#pragma once

namespace keybridge::core {

class MemoryOnlyScope {
 public:
  MemoryOnlyScope() : outer_(active_) { active_ = true; }
  ~MemoryOnlyScope() { active_ = outer_; }
  MemoryOnlyScope(const MemoryOnlyScope&) = delete;
  MemoryOnlyScope& operator=(const MemoryOnlyScope&) = delete;
  MemoryOnlyScope(MemoryOnlyScope&&) = delete;
  MemoryOnlyScope& operator=(MemoryOnlyScope&&) = delete;

  // Whether a scope is alive on this thread.
  static bool Active() { return active_; }

 private:
  inline static thread_local bool active_ = false;
  bool outer_;
};

}  // namespace keybridge::core
