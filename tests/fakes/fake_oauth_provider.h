// FakeOAuthProvider: the shared core of the loopback fake OAuth providers (FakeGitLab, FakeGitHub,
// and the data connectors FakeDropbox, FakeGoogle, FakeZenodo) that keybridge's connect-flow,
// refresh-race and git tests run against. It owns the provider's state (registered app, signed-in
// user, codes, token grants), the token-endpoint gate and failure injection, counters and the
// request log; the subclasses own the wire format of each provider. fake_oauth_provider_flow.cc
// holds what the plain code-flow fakes share (authorize, client credentials, refresh without
// rotation, grant-wide revocation).
// Every public method is thread-safe and may be called while requests are in flight.
//
//   testing::FakeClock clock;
//   FakeGitLab gitlab(clock);  // already serving on 127.0.0.1:<port>
//   gitlab.SetRedirectUris({keybridge_callback_url});
//   ... configure keybridge with gitlab.BaseUrl(), drive the flow, move time with clock ...
//   EXPECT_EQ(gitlab.RequestsTo("/oauth/token")[0].Form("code_verifier"), verifier);
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/http_client.h"
#include "crypto/system_random.h"
#include "fakes/form_encoding.h"
#include "http/message.h"
#include "http/server.h"

namespace keybridge::fakes {

// The person signed in at the provider's web UI. A code, and the tokens minted from it, belong to
// the user who was current when the code was issued, so SetCurrentUser() between two flows
// simulates an account switch.
struct FakeUser {
  std::int64_t id = 1;
  std::string username = "alice";  // GitLab `username`, GitHub `login`
  std::string name = "Alice Example";
  std::string email = "alice@example.com";  // GitLab primary email; GitHub public email ("" = null)
  std::string web_url{};                    // "" means BaseUrl() + "/" + username
  std::string state = "active";             // GitLab user state
};

// One request as the fake received it, so tests can assert what keybridge sent.
struct RecordedRequest {
  std::string method;
  std::string path;                       // raw (percent-encoded) path without the query
  std::string query;                      // raw query string without '?'
  std::vector<core::HttpHeader> headers;  // names lower-cased, in arrival order
  std::string body;
  FormFields form;  // decoded body when it is application/x-www-form-urlencoded, else empty

  // First header with this lower-case name, or "" if absent.
  std::string Header(std::string_view lower_name) const;
  std::optional<std::string> Form(std::string_view name) const;
  std::optional<std::string> Query(std::string_view name) const;
};

struct TokenPair {
  std::string access_token;
  std::string refresh_token;  // "" when the provider issued none
};

// Where HoldTokenRequests() stops a token request.
enum class HoldPoint {
  // Before anything happened: a slow provider. Released requests then race for the grant.
  kBeforeProcessing,
  // After the grant was executed (code consumed, tokens rotated) but before the response leaves:
  // with a client timeout this is the "provider rotated, response lost" case.
  kAfterProcessing,
};

class FakeOAuthProvider {
 public:
  // Configuration shared by every fake; each subclass extends it with provider switches.
  struct Options {
    std::string client_id;
    std::string client_secret;
    std::vector<std::string> redirect_uris;  // exact strings, compared byte for byte
    core::Seconds access_token_lifetime{7200};
    core::Seconds refresh_token_lifetime{0};  // 0: refresh tokens never expire
    core::Seconds code_lifetime{600};         // codes are single use and expire after this
    // true: GET authorize redirects back with a code at once (user signed in, consent given).
    // false: it renders a consent page whose form posts back to the authorize endpoint.
    bool auto_approve = true;
    // Every token-endpoint request waits this long before it is processed: a slow provider for
    // the refresh-storm benchmark (wall time is compared with connections / concurrency x delay).
    // Simulated latency, not synchronisation; tests that need ordering use HoldTokenRequests().
    std::chrono::milliseconds token_delay{0};
    // Handler threads of each server of the fake. A delayed request occupies one, so a slow
    // provider answering N requests at once needs at least N (plus one for API calls).
    std::size_t worker_threads = 16;
    // Largest request body a server of the fake reads: git sends whole packs as bodies, so a
    // push benchmark of a big repository needs more than the default.
    std::size_t max_body_bytes = std::size_t{64} * 1024 * 1024;
  };

  FakeOAuthProvider(const FakeOAuthProvider&) = delete;
  FakeOAuthProvider& operator=(const FakeOAuthProvider&) = delete;
  virtual ~FakeOAuthProvider();

  // The web root keybridge would be configured with (GitLab: including its path prefix).
  virtual std::string BaseUrl() const = 0;
  virtual std::string AuthorizationEndpoint() const = 0;
  virtual std::string TokenEndpoint() const = 0;

  // --- Registered application and user (take effect for the next request) ---
  Options AppOptions() const;
  void SetClientCredentials(std::string client_id, std::string client_secret);
  void SetRedirectUris(std::vector<std::string> redirect_uris);
  void SetAccessTokenLifetime(core::Seconds lifetime);   // applies to tokens minted afterwards
  void SetRefreshTokenLifetime(core::Seconds lifetime);  // applies to tokens minted afterwards
  void SetAutoApprove(bool auto_approve);
  // While set, the user clicks "Deny": authorize redirects back with error=access_denied.
  void DenyConsent(bool deny = true);
  void SetCurrentUser(FakeUser user);
  FakeUser CurrentUser() const;

  // --- Token endpoint gate (a delay without sleeping) ---
  // From now on token requests block at `point` until released.
  void HoldTokenRequests(HoldPoint point = HoldPoint::kBeforeProcessing);
  // Releases every held request and stops holding new ones.
  void ReleaseTokenRequests();
  // Releases the oldest held request only; new requests keep being held.
  void ReleaseOneTokenRequest();
  // Waits (on a condition variable) until at least `count` requests are held; false on timeout.
  bool WaitForHeldRequests(std::size_t count,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  std::size_t HeldRequestCount() const;
  // The next `count` token requests answer `status` (e.g. 500, 503, 429) without touching any
  // state; `retry_after_seconds` adds a Retry-After header.
  void FailNextTokenRequests(int count, int status,
                             std::optional<int> retry_after_seconds = std::nullopt);

  // --- Counters (requests received, whatever their outcome) ---
  int TokenRequestCount() const;
  int RefreshRequestCount() const;  // grant_type=refresh_token
  int CodeExchangeCount() const;    // authorization_code grants (GitHub: no or that grant_type)
  int RevocationCount() const;      // revocation endpoint calls
  // Every request on every server of the fake (GitHub: web and API host), oldest first.
  std::vector<RecordedRequest> Requests() const;
  // Requests whose path ends with `path_suffix` (e.g. "/oauth/token"), oldest first.
  std::vector<RecordedRequest> RequestsTo(std::string_view path_suffix) const;
  void ClearRequests();

  // --- Tokens ---
  // Kills every access and refresh token, as when the user de-authorizes the application.
  void RevokeAllTokens();
  // Mints a pair for `user` without a browser flow (for tests that only need a valid token).
  virtual TokenPair IssueTokenPair(const FakeUser& user, const std::string& scope);
  // Whether the token would currently be accepted (unexpired, unrevoked). No side effects.
  bool IsAccessTokenLive(std::string_view access_token) const;
  bool IsRefreshTokenLive(std::string_view refresh_token) const;

 protected:
  // Authorization code as stored at authorize time.
  struct CodeRecord {
    std::string code;
    std::string client_id;
    std::string redirect_uri;  // as sent to authorize ("" if none was sent)
    std::string scope;
    std::string code_challenge;  // "" without PKCE
    std::string code_challenge_method;
    FakeUser user;
    core::TimePoint expires_at;
    bool used = false;
    bool offline = true;  // the exchange issues a refresh token (Dropbox, Google: on request only)
  };

  // One access token with its refresh token (Doorkeeper keeps both in one row, and so does this).
  struct TokenRecord {
    std::string access_token;
    std::string refresh_token;  // "" if none
    std::string client_id;
    FakeUser user;
    std::string scope;
    core::TimePoint created_at;
    std::optional<core::TimePoint> access_expires_at;   // nullopt: never expires
    std::optional<core::TimePoint> refresh_expires_at;  // nullopt: never expires
    bool revoked = false;                               // kills both tokens
    bool used = false;  // the access token was presented at least once
    // Grace mode: this refresh token stays usable until this record's access token is first used.
    std::string previous_refresh_token;
    // Records minted from one authorization share it when the refresh token is not rotated
    // (Dropbox, Google): revoking any token of the grant revokes them all (RevokeGrantLocked).
    std::uint64_t grant = 0;
  };

  enum class TokenState { kValid, kExpired, kRevoked, kUnknown };

  struct AccessCheck {
    TokenState state = TokenState::kUnknown;
    TokenRecord record;  // meaningful unless kUnknown
  };

  enum class RefreshOutcome { kIssued, kUnknown, kRevoked, kExpired, kOtherClient };
  struct RefreshResult {
    RefreshOutcome outcome = RefreshOutcome::kUnknown;
    TokenRecord issued;  // meaningful for kIssued
  };

  FakeOAuthProvider(const core::Clock& clock, Options options);

  // Token formats of the provider.
  virtual std::string NewAccessToken() = 0;
  virtual std::string NewRefreshToken() = 0;
  virtual std::string NewCode() = 0;
  // The response for a failure injected with FailNextTokenRequests().
  virtual http::Response InjectedFailure(int status, std::optional<int> retry_after_seconds);

  // Binds a loopback server (not yet serving) and returns its port. Call from the subclass
  // constructor once routes exist, store the port, then call StartServers(): starting the
  // threads after the port members are written keeps those members free of data races.
  std::uint16_t AddServer(http::Handler handler);
  void StartServers();
  // Releases held requests and stops every server. Subclass destructors must call it first, so
  // no handler runs while the subclass is being destroyed. Idempotent.
  void StopServers();

  // Appends to the request log. Call at the top of every handler.
  void Record(const http::Request& request);
  // Token-endpoint prologue: counts the request by grant type, waits at the before-processing
  // gate and returns the injected failure if one is due (then the handler must return it).
  std::optional<http::Response> EnterTokenEndpoint(std::string_view grant_type);
  // Waits at the after-processing gate. Call without holding mutex_.
  void LeaveTokenEndpoint();
  void CountRevocation();

  core::TimePoint Now() const { return clock_.Now(); }
  std::string RandomHex(std::size_t length);
  std::string RandomAlnum(std::size_t length);

  // Everything below requires mutex_ to be held by the caller.
  std::string IssueCodeLocked(CodeRecord record);
  CodeRecord* FindCodeLocked(std::string_view code);
  // `grant` 0 starts a new grant.
  TokenRecord& IssueTokensLocked(const std::string& client_id, const FakeUser& user,
                                 const std::string& scope, bool with_refresh,
                                 std::uint64_t grant = 0);
  TokenRecord* FindByAccessTokenLocked(std::string_view access_token);
  TokenRecord* FindByRefreshTokenLocked(std::string_view refresh_token);
  TokenState AccessStateLocked(const TokenRecord& record) const;
  // Looks the token up; a valid token is marked used, which in grace mode revokes the record of
  // the refresh token it was minted from.
  AccessCheck AuthenticateLocked(std::string_view access_token);
  // Single-use refresh: the old record dies at once unless `grace`, in which case it lives until
  // the new access token is first used. `scope` (if set) must already be validated as a subset.
  RefreshResult RotateLocked(std::string_view client_id, std::string_view refresh_token,
                             const std::optional<std::string>& scope, bool grace);
  // Refresh without rotation (Dropbox, Google): a new access token in a record of the same grant
  // without a refresh token of its own; the presented refresh token stays valid.
  RefreshResult RefreshKeepingTokenLocked(std::string_view client_id,
                                          std::string_view refresh_token);
  // Kills every access and refresh token of the grant.
  void RevokeGrantLocked(std::uint64_t grant);
  // Revokes the oldest live records of `user_id` beyond `max_live` (GitHub's 10-token limit).
  void EnforceTokenLimitLocked(const std::string& client_id, std::int64_t user_id,
                               std::size_t max_live);
  std::deque<TokenRecord>& TokensLocked();

  // --- Shared by the fakes with a plain authorization-code flow (Dropbox, Google, Zenodo) ---
  // Authorization request, part one (RFC 6749 §4.1.2.1): an unknown client_id or a redirect_uri
  // that is not registered byte for byte gets a page with `status` and `title`, never a
  // redirect. nullopt when both are fine.
  std::optional<http::Response> CheckClientAndRedirectLocked(const FormFields& params, int status,
                                                             std::string_view title) const;
  // Part two, after the provider's own checks: response_type, the PKCE method (when `pkce`; a
  // provider without PKCE ignores the parameters), the user's decision (DenyConsent), then a
  // redirect with a code for `record` (the caller fills scope, offline and user; client,
  // redirect_uri and the challenge are filled here). The fakes using it always auto-approve.
  http::Response FinishAuthorizeLocked(const FormFields& params, CodeRecord record, bool pkce);
  // The redirect of an authorization error (RFC 6749 §4.1.2.1), state included when sent.
  static http::Response ErrorRedirect(const std::string& redirect_uri, std::string_view error,
                                      std::string_view description,
                                      const std::optional<std::string>& state);
  struct ClientCredentials {
    std::string id;
    std::string secret;
    bool basic = false;  // came from HTTP Basic (client_secret_basic)
  };
  // RFC 6749 §2.3.1: HTTP Basic first when `accept_basic`, else (or without it) the body.
  static ClientCredentials ReadClientCredentials(const http::Request& request,
                                                 const FormFields& body, bool accept_basic);
  // Whether `credentials` are the registered application's. Requires mutex_.
  bool ClientMatchesLocked(const ClientCredentials& credentials) const;
  // A JSON response body as is, with the no-store headers of RFC 6749 §5.1.
  static http::Response JsonReply(int status, std::string body);
  // Whether the space-separated `scopes` contains `scope`.
  static bool ScopeIncludes(std::string_view scopes, std::string_view scope);

  static std::string HtmlEscape(std::string_view text);
  // A minimal HTML page with `title` as heading and `message` as paragraph (both escaped).
  static http::Response HtmlPage(int status, std::string_view title, std::string_view message);
  // "Basic base64(id:secret)" split at the first ':' without percent-decoding (Doorkeeper does
  // not decode either); nullopt if the header is absent or malformed.
  static std::optional<std::pair<std::string, std::string>> ParseBasicAuth(
      const http::Request& request);
  // The token of "Authorization: Bearer X" (GitHub also takes "token X"); "" if absent.
  static std::string BearerToken(const http::Request& request, bool accept_token_scheme);
  static bool VerifyPkce(std::string_view method, std::string_view challenge,
                         std::string_view verifier);
  static bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);

  mutable std::mutex mutex_;
  Options options_;  // guarded by mutex_
  FakeUser current_user_;
  bool deny_consent_ = false;

 private:
  void WaitAtGate(std::unique_lock<std::mutex>& lock, HoldPoint point);

  const core::Clock& clock_;
  crypto::SystemRandom random_;

  std::deque<CodeRecord> codes_;
  std::deque<TokenRecord> tokens_;  // a deque, so references survive issuing more
  std::uint64_t next_grant_ = 1;
  std::vector<RecordedRequest> requests_;
  int token_requests_ = 0;
  int refresh_requests_ = 0;
  int code_exchanges_ = 0;
  int revocations_ = 0;

  // Gate: held requests take tickets in arrival order; ticket t is free once t < released_below_.
  mutable std::condition_variable gate_cv_;
  bool holding_ = false;
  HoldPoint hold_point_ = HoldPoint::kBeforeProcessing;
  std::uint64_t next_ticket_ = 0;
  std::uint64_t released_below_ = 0;
  std::size_t held_ = 0;
  bool shutting_down_ = false;

  int failures_left_ = 0;
  int failure_status_ = 503;
  std::optional<int> failure_retry_after_;

  std::vector<std::unique_ptr<http::Server>> servers_;
};

}  // namespace keybridge::fakes
