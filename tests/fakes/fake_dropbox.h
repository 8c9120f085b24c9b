// FakeDropbox: a loopback Dropbox OAuth 2 server plus the two API calls keybridge makes, with the
// paths of production on one host (www.dropbox.com's /oauth2/authorize and
// api.dropboxapi.com's /oauth2/token, /2/auth/token/revoke, /2/users/get_current_account), as the
// server's local stand-in for the dropbox kind expects. It reproduces Dropbox's wire behaviour
// (Dropbox developer documentation, "OAuth Guide" and the HTTP reference of /oauth2/token,
// auth/token/revoke and users/get_current_account):
//   - a refresh token only when authorize carried token_access_type=offline;
//   - refresh answers carry no refresh_token: it is not rotated and stays valid;
//   - errors as 400 JSON {"error","error_description"} at the token endpoint;
//   - revoking the access token revokes the whole grant (the refresh token too);
//   - RPC endpoints without arguments take an empty body without Content-Type, or `null` as
//     application/json; an empty body declared as JSON is a 400 text/plain "could not decode
//     input as JSON";
//   - 401 {"error_summary","error":{".tag"}} for expired or invalid access tokens.
// FakeUser maps to the account: uid = id, email, name split into given name and surname.
#pragma once

#include <cstdint>
#include <string>

#include "fakes/fake_oauth_provider.h"
#include "http/router.h"

namespace keybridge::fakes {

class FakeDropbox final : public FakeOAuthProvider {
 public:
  struct Options : FakeOAuthProvider::Options {
    Options();  // Dropbox defaults: 14400 s short-lived access tokens, refresh tokens never expire
    // Granted when authorize carries no scope: the app's permissions in the App Console.
    std::string default_scope = "account_info.read files.metadata.read files.content.read";
  };

  // `clock` must outlive the fake. Starts serving on 127.0.0.1 before returning.
  explicit FakeDropbox(const core::Clock& clock, Options options = Options());
  ~FakeDropbox() override;

  std::string BaseUrl() const override;  // http://127.0.0.1:<port>
  std::string AuthorizationEndpoint() const override;
  std::string TokenEndpoint() const override;
  std::string RevocationEndpoint() const;
  std::string AccountEndpoint() const;

 private:
  http::Response Authorize(const http::Request& request);
  http::Response Token(const http::Request& request);
  http::Response TokenFromCode(const FormFields& params, const ClientCredentials& client);
  http::Response TokenFromRefresh(const FormFields& params, const ClientCredentials& client);
  http::Response Revoke(const http::Request& request);
  http::Response CurrentAccount(const http::Request& request);
  // The argument-less RPC body rule of `function`; a response to send instead, or nullopt.
  static std::optional<http::Response> CheckNoArgumentBody(const http::Request& request,
                                                           std::string_view function);
  // Bearer authentication of the API; a 401 to send instead, or nullopt with `check` filled in.
  std::optional<http::Response> AuthenticateLockedOr401(const http::Request& request,
                                                        std::string_view function,
                                                        AccessCheck& check);

  std::string NewAccessToken() override;
  std::string NewRefreshToken() override;
  std::string NewCode() override;

  http::Router router_;
  std::uint16_t port_ = 0;
  std::string default_scope_;  // guarded by mutex_
};

}  // namespace keybridge::fakes
