#include "fakes/fake_oauth_provider.h"

#include <algorithm>
#include <cctype>
#include <thread>
#include <utility>

#include "core/text.h"
#include "crypto/base64.h"
#include "crypto/hash.h"

namespace keybridge::fakes {
namespace {

std::string ReasonPhrase(int status) {
  switch (status) {
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

}  // namespace

std::string RecordedRequest::Header(std::string_view lower_name) const {
  for (const auto& header : headers) {
    if (header.name == lower_name) {
      return header.value;
    }
  }
  return {};
}

std::optional<std::string> RecordedRequest::Form(std::string_view name) const {
  return FindField(form, name);
}

std::optional<std::string> RecordedRequest::Query(std::string_view name) const {
  return FindField(ParseFormFields(query), name);
}

FakeOAuthProvider::FakeOAuthProvider(const core::Clock& clock, Options options)
    : options_(std::move(options)), clock_(clock) {}

FakeOAuthProvider::~FakeOAuthProvider() {
  StopServers();
}

std::uint16_t FakeOAuthProvider::AddServer(http::Handler handler) {
  http::ServerOptions server_options;
  server_options.host = "127.0.0.1";
  server_options.port = 0;
  {
    const std::lock_guard lock(mutex_);
    server_options.worker_threads = std::max<std::size_t>(1, options_.worker_threads);
    server_options.max_body_bytes = options_.max_body_bytes;
  }
  server_options.log_requests = false;
  servers_.push_back(std::make_unique<http::Server>(std::move(server_options), std::move(handler)));
  return servers_.back()->port();
}

void FakeOAuthProvider::StartServers() {
  for (auto& server : servers_) {
    server->Start();
  }
}

void FakeOAuthProvider::StopServers() {
  {
    const std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  gate_cv_.notify_all();
  for (auto& server : servers_) {
    server->Stop();
  }
}

FakeOAuthProvider::Options FakeOAuthProvider::AppOptions() const {
  const std::lock_guard lock(mutex_);
  return options_;
}

void FakeOAuthProvider::SetClientCredentials(std::string client_id, std::string client_secret) {
  const std::lock_guard lock(mutex_);
  options_.client_id = std::move(client_id);
  options_.client_secret = std::move(client_secret);
}

void FakeOAuthProvider::SetRedirectUris(std::vector<std::string> redirect_uris) {
  const std::lock_guard lock(mutex_);
  options_.redirect_uris = std::move(redirect_uris);
}

void FakeOAuthProvider::SetAccessTokenLifetime(core::Seconds lifetime) {
  const std::lock_guard lock(mutex_);
  options_.access_token_lifetime = lifetime;
}

void FakeOAuthProvider::SetRefreshTokenLifetime(core::Seconds lifetime) {
  const std::lock_guard lock(mutex_);
  options_.refresh_token_lifetime = lifetime;
}

void FakeOAuthProvider::SetAutoApprove(bool auto_approve) {
  const std::lock_guard lock(mutex_);
  options_.auto_approve = auto_approve;
}

void FakeOAuthProvider::DenyConsent(bool deny) {
  const std::lock_guard lock(mutex_);
  deny_consent_ = deny;
}

void FakeOAuthProvider::SetCurrentUser(FakeUser user) {
  const std::lock_guard lock(mutex_);
  current_user_ = std::move(user);
}

FakeUser FakeOAuthProvider::CurrentUser() const {
  const std::lock_guard lock(mutex_);
  return current_user_;
}

void FakeOAuthProvider::HoldTokenRequests(HoldPoint point) {
  const std::lock_guard lock(mutex_);
  holding_ = true;
  hold_point_ = point;
}

void FakeOAuthProvider::ReleaseTokenRequests() {
  {
    const std::lock_guard lock(mutex_);
    holding_ = false;
    released_below_ = next_ticket_;
  }
  gate_cv_.notify_all();
}

void FakeOAuthProvider::ReleaseOneTokenRequest() {
  {
    const std::lock_guard lock(mutex_);
    if (released_below_ < next_ticket_) {
      ++released_below_;
    }
  }
  gate_cv_.notify_all();
}

bool FakeOAuthProvider::WaitForHeldRequests(std::size_t count,
                                            std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return gate_cv_.wait_for(lock, timeout, [&] { return held_ >= count; });
}

std::size_t FakeOAuthProvider::HeldRequestCount() const {
  const std::lock_guard lock(mutex_);
  return held_;
}

void FakeOAuthProvider::FailNextTokenRequests(int count, int status,
                                              std::optional<int> retry_after_seconds) {
  const std::lock_guard lock(mutex_);
  failures_left_ = count;
  failure_status_ = status;
  failure_retry_after_ = retry_after_seconds;
}

int FakeOAuthProvider::TokenRequestCount() const {
  const std::lock_guard lock(mutex_);
  return token_requests_;
}

int FakeOAuthProvider::RefreshRequestCount() const {
  const std::lock_guard lock(mutex_);
  return refresh_requests_;
}

int FakeOAuthProvider::CodeExchangeCount() const {
  const std::lock_guard lock(mutex_);
  return code_exchanges_;
}

int FakeOAuthProvider::RevocationCount() const {
  const std::lock_guard lock(mutex_);
  return revocations_;
}

std::vector<RecordedRequest> FakeOAuthProvider::Requests() const {
  const std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<RecordedRequest> FakeOAuthProvider::RequestsTo(std::string_view path_suffix) const {
  const std::lock_guard lock(mutex_);
  std::vector<RecordedRequest> matching;
  for (const auto& request : requests_) {
    if (request.path.size() >= path_suffix.size()
        && std::string_view(request.path).substr(request.path.size() - path_suffix.size())
               == path_suffix) {
      matching.push_back(request);
    }
  }
  return matching;
}

void FakeOAuthProvider::ClearRequests() {
  const std::lock_guard lock(mutex_);
  requests_.clear();
}

void FakeOAuthProvider::RevokeAllTokens() {
  const std::lock_guard lock(mutex_);
  for (auto& record : tokens_) {
    record.revoked = true;
  }
}

TokenPair FakeOAuthProvider::IssueTokenPair(const FakeUser& user, const std::string& scope) {
  const std::lock_guard lock(mutex_);
  const TokenRecord& record = IssueTokensLocked(options_.client_id, user, scope, true);
  return TokenPair{record.access_token, record.refresh_token};
}

bool FakeOAuthProvider::IsAccessTokenLive(std::string_view access_token) const {
  const std::lock_guard lock(mutex_);
  for (const auto& record : tokens_) {
    if (record.access_token == access_token) {
      return AccessStateLocked(record) == TokenState::kValid;
    }
  }
  return false;
}

bool FakeOAuthProvider::IsRefreshTokenLive(std::string_view refresh_token) const {
  const std::lock_guard lock(mutex_);
  for (const auto& record : tokens_) {
    if (!record.refresh_token.empty() && record.refresh_token == refresh_token) {
      return !record.revoked
             && (!record.refresh_expires_at || clock_.Now() < *record.refresh_expires_at);
    }
  }
  return false;
}

http::Response FakeOAuthProvider::InjectedFailure(int status,
                                                  std::optional<int> retry_after_seconds) {
  const std::string reason = std::to_string(status) + " " + ReasonPhrase(status);
  http::Response response = HtmlPage(status, reason, "The server is temporarily unable to answer.");
  if (retry_after_seconds) {
    response.WithHeader("Retry-After", std::to_string(*retry_after_seconds));
  }
  return response;
}

void FakeOAuthProvider::Record(const http::Request& request) {
  RecordedRequest recorded;
  recorded.method = request.method;
  recorded.path = request.path;
  recorded.query = request.raw_query;
  recorded.headers = request.headers;
  recorded.body = request.body;
  if (ContainsIgnoreCase(request.Header("content-type"), "application/x-www-form-urlencoded")) {
    recorded.form = ParseFormFields(request.body);
  }
  const std::lock_guard lock(mutex_);
  requests_.push_back(std::move(recorded));
}

std::optional<http::Response> FakeOAuthProvider::EnterTokenEndpoint(std::string_view grant_type) {
  std::optional<int> retry_after;
  int status = 0;
  std::chrono::milliseconds delay{0};
  {
    const std::lock_guard lock(mutex_);
    ++token_requests_;
    if (grant_type == "refresh_token") {
      ++refresh_requests_;
    } else if (grant_type == "authorization_code") {
      ++code_exchanges_;
    }
    delay = options_.token_delay;
  }
  if (delay.count() > 0) {
    // Provider latency, outside the lock so concurrent requests overlap as on a real provider.
    std::this_thread::sleep_for(delay);
  }
  {
    std::unique_lock lock(mutex_);
    WaitAtGate(lock, HoldPoint::kBeforeProcessing);
    if (shutting_down_) {
      status = 503;
    } else if (failures_left_ > 0) {
      --failures_left_;
      status = failure_status_;
      retry_after = failure_retry_after_;
    }
  }
  if (status == 0) {
    return std::nullopt;
  }
  return InjectedFailure(status, retry_after);
}

void FakeOAuthProvider::LeaveTokenEndpoint() {
  std::unique_lock lock(mutex_);
  WaitAtGate(lock, HoldPoint::kAfterProcessing);
}

void FakeOAuthProvider::CountRevocation() {
  const std::lock_guard lock(mutex_);
  ++revocations_;
}

void FakeOAuthProvider::WaitAtGate(std::unique_lock<std::mutex>& lock, HoldPoint point) {
  if (!holding_ || hold_point_ != point || shutting_down_) {
    return;
  }
  const std::uint64_t ticket = next_ticket_++;
  ++held_;
  gate_cv_.notify_all();  // wakes WaitForHeldRequests
  gate_cv_.wait(lock, [&] { return ticket < released_below_ || shutting_down_; });
  --held_;
}

std::string FakeOAuthProvider::RandomHex(std::size_t length) {
  std::string hex = crypto::HexEncode(random_.Bytes((length + 1) / 2));
  hex.resize(length);
  return hex;
}

std::string FakeOAuthProvider::RandomAlnum(std::size_t length) {
  static constexpr std::string_view kAlphabet =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  out.reserve(length);
  while (out.size() < length) {
    for (const char c : random_.Bytes(length)) {
      const auto byte = static_cast<unsigned char>(c);
      // Rejection sampling keeps the distribution uniform (248 = 4 * 62).
      if (byte < 248 && out.size() < length) {
        out.push_back(kAlphabet[byte % kAlphabet.size()]);
      }
    }
  }
  return out;
}

std::string FakeOAuthProvider::IssueCodeLocked(CodeRecord record) {
  record.code = NewCode();
  record.expires_at = clock_.Now() + options_.code_lifetime;
  codes_.push_back(std::move(record));
  return codes_.back().code;
}

FakeOAuthProvider::CodeRecord* FakeOAuthProvider::FindCodeLocked(std::string_view code) {
  if (code.empty()) {
    return nullptr;
  }
  for (auto& record : codes_) {
    if (crypto::ConstantTimeEquals(record.code, code)) {
      return &record;
    }
  }
  return nullptr;
}

FakeOAuthProvider::TokenRecord& FakeOAuthProvider::IssueTokensLocked(const std::string& client_id,
                                                                     const FakeUser& user,
                                                                     const std::string& scope,
                                                                     bool with_refresh,
                                                                     std::uint64_t grant) {
  const core::TimePoint now = clock_.Now();
  TokenRecord record;
  record.grant = grant != 0 ? grant : next_grant_++;
  record.access_token = NewAccessToken();
  if (with_refresh) {
    record.refresh_token = NewRefreshToken();
    if (options_.refresh_token_lifetime.count() > 0) {
      record.refresh_expires_at = now + options_.refresh_token_lifetime;
    }
  }
  record.client_id = client_id;
  record.user = user;
  record.scope = scope;
  record.created_at = now;
  if (options_.access_token_lifetime.count() > 0) {
    record.access_expires_at = now + options_.access_token_lifetime;
  }
  tokens_.push_back(std::move(record));
  return tokens_.back();
}

FakeOAuthProvider::TokenRecord* FakeOAuthProvider::FindByAccessTokenLocked(
    std::string_view access_token) {
  if (access_token.empty()) {
    return nullptr;
  }
  for (auto& record : tokens_) {
    if (crypto::ConstantTimeEquals(record.access_token, access_token)) {
      return &record;
    }
  }
  return nullptr;
}

FakeOAuthProvider::TokenRecord* FakeOAuthProvider::FindByRefreshTokenLocked(
    std::string_view refresh_token) {
  if (refresh_token.empty()) {
    return nullptr;
  }
  for (auto& record : tokens_) {
    if (!record.refresh_token.empty()
        && crypto::ConstantTimeEquals(record.refresh_token, refresh_token)) {
      return &record;
    }
  }
  return nullptr;
}

FakeOAuthProvider::TokenState FakeOAuthProvider::AccessStateLocked(
    const TokenRecord& record) const {
  // GitLab's AccessTokenValidationService reports "expired" before "revoked".
  if (record.access_expires_at && clock_.Now() >= *record.access_expires_at) {
    return TokenState::kExpired;
  }
  if (record.revoked) {
    return TokenState::kRevoked;
  }
  return TokenState::kValid;
}

FakeOAuthProvider::AccessCheck FakeOAuthProvider::AuthenticateLocked(
    std::string_view access_token) {
  TokenRecord* record = FindByAccessTokenLocked(access_token);
  if (record == nullptr) {
    return AccessCheck{};
  }
  const TokenState state = AccessStateLocked(*record);
  if (state == TokenState::kValid && !record->used) {
    record->used = true;
    // Doorkeeper's revoke_previous_refresh_token!: the first use of the new access token ends
    // the grace period of the refresh token it was minted from.
    if (!record->previous_refresh_token.empty()) {
      if (TokenRecord* previous = FindByRefreshTokenLocked(record->previous_refresh_token)) {
        previous->revoked = true;
      }
      record->previous_refresh_token.clear();
    }
  }
  return AccessCheck{state, *record};
}

FakeOAuthProvider::RefreshResult FakeOAuthProvider::RotateLocked(
    std::string_view client_id, std::string_view refresh_token,
    const std::optional<std::string>& scope, bool grace) {
  TokenRecord* old = FindByRefreshTokenLocked(refresh_token);
  if (old == nullptr) {
    return RefreshResult{RefreshOutcome::kUnknown, {}};
  }
  if (old->client_id != client_id) {
    return RefreshResult{RefreshOutcome::kOtherClient, {}};
  }
  if (old->revoked) {
    return RefreshResult{RefreshOutcome::kRevoked, {}};
  }
  if (old->refresh_expires_at && clock_.Now() >= *old->refresh_expires_at) {
    return RefreshResult{RefreshOutcome::kExpired, {}};
  }
  const std::string old_refresh = old->refresh_token;
  if (!grace) {
    old->revoked = true;
  }
  // Copy what we need before issuing: the new record is appended to the same container.
  const FakeUser user = old->user;
  const std::string new_scope = scope.value_or(old->scope);
  const std::string owner(client_id);
  TokenRecord& issued = IssueTokensLocked(owner, user, new_scope, true);
  if (grace) {
    issued.previous_refresh_token = old_refresh;
  }
  return RefreshResult{RefreshOutcome::kIssued, issued};
}

void FakeOAuthProvider::EnforceTokenLimitLocked(const std::string& client_id, std::int64_t user_id,
                                                std::size_t max_live) {
  std::vector<TokenRecord*> live;
  for (auto& record : tokens_) {
    if (record.client_id == client_id && record.user.id == user_id && !record.revoked) {
      live.push_back(&record);
    }
  }
  // tokens_ is in issue order, so the front of `live` holds the oldest.
  for (std::size_t i = 0; i + max_live < live.size(); ++i) {
    live[i]->revoked = true;
  }
}

std::deque<FakeOAuthProvider::TokenRecord>& FakeOAuthProvider::TokensLocked() {
  return tokens_;
}

std::string FakeOAuthProvider::HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

http::Response FakeOAuthProvider::HtmlPage(int status, std::string_view title,
                                           std::string_view message) {
  http::Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "text/html; charset=utf-8"});
  response.body = "<!DOCTYPE html>\n<html><head><title>" + HtmlEscape(title)
                  + "</title></head><body><h1>" + HtmlEscape(title) + "</h1><p>"
                  + HtmlEscape(message) + "</p></body></html>\n";
  return response;
}

std::optional<std::pair<std::string, std::string>> FakeOAuthProvider::ParseBasicAuth(
    const http::Request& request) {
  const std::string authorization = request.Header("authorization");
  constexpr std::string_view kScheme = "basic ";
  if (authorization.size() <= kScheme.size()
      || !ContainsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  const auto decoded = crypto::Base64Decode(authorization.substr(kScheme.size()));
  if (!decoded) {
    return std::nullopt;
  }
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

std::string FakeOAuthProvider::BearerToken(const http::Request& request, bool accept_token_scheme) {
  const std::string authorization = request.Header("authorization");
  for (const std::string_view scheme : {std::string_view("bearer "), std::string_view("token ")}) {
    if (scheme == "token " && !accept_token_scheme) {
      continue;
    }
    if (authorization.size() > scheme.size()
        && ContainsIgnoreCase(authorization.substr(0, scheme.size()), scheme)) {
      return authorization.substr(scheme.size());
    }
  }
  return {};
}

bool FakeOAuthProvider::VerifyPkce(std::string_view method, std::string_view challenge,
                                   std::string_view verifier) {
  // RFC 7636 §4.6.
  if (method == "S256") {
    return crypto::ConstantTimeEquals(crypto::Base64UrlEncode(crypto::Sha256(verifier)), challenge);
  }
  if (method == "plain") {
    return crypto::ConstantTimeEquals(verifier, challenge);
  }
  return false;
}

bool FakeOAuthProvider::ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  const auto it =
      std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                  [](char a, char b) { return core::AsciiLower(a) == core::AsciiLower(b); });
  return it != haystack.end() || needle.empty();
}

}  // namespace keybridge::fakes
