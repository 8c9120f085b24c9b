// ReadCache: a bounded, least-recently-used map of rows read from the database, which answers
// only while its ChangeFeed vouches that no change committed more than the promised time ago is
// missing (storage/change_feed.h). Internal to storage/: the cached repositories
// (storage/cached_repositories.h) are its only users.
//
// A fill races with invalidations: a reader that read the old row before another replica's
// change, but stores it after that change's invalidation, would keep the old row forever. So a
// reader takes a Ticket BEFORE it reads the database, and Fill stores nothing if any
// invalidation happened since (one generation counter per cache: invalidations are rare next to
// reads, so an occasional lost fill costs one more database read, never correctness).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "storage/change_feed.h"

namespace keybridge::storage {

struct ReadCacheStats {
  std::string name;  // "connections", "session_tokens", ... (metrics label)
  std::size_t entries = 0;
  std::size_t capacity = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;         // asked while current but not cached
  std::uint64_t bypassed = 0;       // asked while the feed was not current
  std::uint64_t invalidations = 0;  // keys dropped because they changed (or everything, once)
  std::uint64_t evictions = 0;      // dropped for room
};

template <typename Value>
class ReadCache {
 public:
  struct Ticket {
    std::uint64_t generation = 0;
  };

  // `feed` must outlive the cache. `capacity` > 0.
  ReadCache(std::string name, std::size_t capacity, const CacheValidity& feed)
      : name_(std::move(name)), capacity_(capacity), feed_(feed) {}

  // The cached value, if the feed is current and `key` is cached.
  std::optional<Value> Get(const std::string& key) {
    if (!feed_.Current()) {
      bypassed_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++misses_;
      return std::nullopt;
    }
    ++hits_;
    entries_.splice(entries_.begin(), entries_, it->second);
    return it->second->second;
  }

  // Take before reading the database; pass to Fill.
  Ticket BeginFill() const {
    std::lock_guard lock(mu_);
    return Ticket{generation_};
  }

  // Stores `value` unless something was invalidated since `ticket` was taken or the feed is not
  // current. Evicts the least recently used entry when full.
  void Fill(const std::string& key, Value value, Ticket ticket) {
    if (!feed_.Current()) {
      return;
    }
    std::lock_guard lock(mu_);
    if (ticket.generation != generation_) {
      return;
    }
    if (auto it = index_.find(key); it != index_.end()) {
      it->second->second = std::move(value);
      entries_.splice(entries_.begin(), entries_, it->second);
      return;
    }
    if (index_.size() >= capacity_) {
      index_.erase(entries_.back().first);
      entries_.pop_back();  // the value's destructor wipes any core::Secret in it
      ++evictions_;
    }
    entries_.emplace_front(key, std::move(value));
    index_.emplace(key, entries_.begin());
  }

  void Invalidate(const std::string& key) {
    std::lock_guard lock(mu_);
    ++generation_;
    if (auto it = index_.find(key); it != index_.end()) {
      entries_.erase(it->second);
      index_.erase(it);
      ++invalidations_;
    }
  }

  void Clear() {
    std::lock_guard lock(mu_);
    ++generation_;
    invalidations_ += index_.size();
    index_.clear();
    entries_.clear();
  }

  ReadCacheStats Stats() const {
    std::lock_guard lock(mu_);
    return ReadCacheStats{name_,          index_.size(), capacity_,
                          hits_,          misses_,       bypassed_.load(std::memory_order_relaxed),
                          invalidations_, evictions_};
  }

 private:
  using Entries = std::list<std::pair<std::string, Value>>;

  const std::string name_;
  const std::size_t capacity_;
  const CacheValidity& feed_;
  mutable std::mutex mu_;  // guards everything below but bypassed_
  Entries entries_;        // most recently used first
  std::unordered_map<std::string, typename Entries::iterator> index_;
  std::uint64_t generation_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t invalidations_ = 0;
  std::uint64_t evictions_ = 0;
  std::atomic<std::uint64_t> bypassed_{0};
};

}  // namespace keybridge::storage
