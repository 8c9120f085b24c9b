// FakeGoogle: a loopback Google OAuth 2 server plus the userinfo call keybridge makes, with the
// paths of production on one host (accounts.google.com's /o/oauth2/v2/auth,
// oauth2.googleapis.com's /token and /revoke, openidconnect.googleapis.com's /v1/userinfo), as
// the server's local stand-in for the google kind expects. It reproduces Google's wire behaviour
// (Google Identity documentation, "Using OAuth 2.0 for Web Server Applications" and "OpenID
// Connect"):
//   - a refresh token only with access_type=offline, and then only at the user's first consent
//     unless prompt=consent asks for it again;
//   - refresh answers carry no refresh_token (it stays valid) and a new id_token with openid;
//   - 400 invalid_grant "Malformed auth code." / "Token has been expired or revoked.", 401
//     invalid_client "The OAuth client was not found." (unknown id) or "Unauthorized" (secret);
//   - /revoke takes either token in a form body and revokes the whole grant; an unknown token is
//     400 invalid_token;
//   - userinfo: sub always, email with the email scope, name and picture with profile; 401 with
//     WWW-Authenticate and "Invalid Credentials" for a bad token.
// The id_token is shaped like Google's (RS256 header) but its signature is random bytes.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "fakes/fake_oauth_provider.h"
#include "http/router.h"

namespace keybridge::fakes {

class FakeGoogle final : public FakeOAuthProvider {
 public:
  struct Options : FakeOAuthProvider::Options {
    Options();  // Google defaults: 3599 s access tokens, refresh tokens without expiry
  };

  // `clock` must outlive the fake. Starts serving on 127.0.0.1 before returning.
  explicit FakeGoogle(const core::Clock& clock, Options options = Options());
  ~FakeGoogle() override;

  std::string BaseUrl() const override;  // http://127.0.0.1:<port>
  std::string AuthorizationEndpoint() const override;
  std::string TokenEndpoint() const override;
  std::string RevocationEndpoint() const;
  std::string UserinfoEndpoint() const;

  // The OpenID subject of `user`: a 21-digit numeric string, as Google's.
  static std::string Subject(const FakeUser& user);
  // Forgets every consent, as when the user removes the app from their Google account: the next
  // offline authorization issues a refresh token even without prompt=consent.
  void ForgetConsents();

 private:
  http::Response Authorize(const http::Request& request);
  http::Response Token(const http::Request& request);
  http::Response TokenFromCode(const FormFields& params, const ClientCredentials& client);
  http::Response TokenFromRefresh(const FormFields& params, const ClientCredentials& client);
  // 401 invalid_client unless `client` is the registered one; requires mutex_.
  std::optional<http::Response> CheckClientLocked(const ClientCredentials& client) const;
  // The success body of both grants (`refresh_token` only when not empty).
  std::string TokenBody(const TokenRecord& issued, const std::string& refresh_token);
  http::Response Revoke(const http::Request& request);
  http::Response Userinfo(const http::Request& request);

  std::string NewAccessToken() override;
  std::string NewRefreshToken() override;
  std::string NewCode() override;

  http::Router router_;
  std::uint16_t port_ = 0;
  std::set<std::int64_t> consented_;  // users who gave offline consent; guarded by mutex_
};

}  // namespace keybridge::fakes
