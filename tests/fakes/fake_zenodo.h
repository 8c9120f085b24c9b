// FakeZenodo: a loopback Zenodo / InvenioRDM (Invenio's OAuth2 server, invenio-oauth2server on
// flask-oauthlib) plus the depositions list keybridge reads as the account call, with Zenodo's
// paths (/oauth/authorize, /oauth/token, /api/deposit/depositions). It reproduces Zenodo's wire
// behaviour (Zenodo REST API documentation, "Authentication" and "Depositions"):
//   - a plain code flow: no PKCE (code_challenge is ignored), scopes checked against the
//     registered ones (deposit:write deposit:actions user:email);
//   - client authentication with body credentials only: HTTP Basic alone is 401 invalid_client;
//   - the code exchange answers a `user` object with the numeric id as a string;
//   - refresh rotates: every answer has a new refresh_token and the presented one dies;
//   - bare {"error": "..."} bodies (400 invalid_grant, 401 invalid_client);
//   - the depositions list: the token user's depositions (each with "owner"), possibly [];
//     401 {"message","status"} for a bad token, 403 without a deposit scope;
//   - no revocation endpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fakes/fake_oauth_provider.h"
#include "http/router.h"

namespace keybridge::fakes {

struct ZenodoDeposition {
  std::int64_t id = 0;  // 0: AddDeposition assigns one
  std::int64_t owner = 0;
  std::string title = "Untitled";
};

class FakeZenodo final : public FakeOAuthProvider {
 public:
  struct Options : FakeOAuthProvider::Options {
    Options();  // Zenodo defaults: 3600 s access tokens, refresh tokens without expiry
    // Scopes the application may ask for; authorize redirects with invalid_scope otherwise.
    std::vector<std::string> allowed_scopes = {"deposit:write", "deposit:actions", "user:email"};
  };

  // `clock` must outlive the fake. Starts serving on 127.0.0.1 before returning.
  explicit FakeZenodo(const core::Clock& clock, Options options = Options());
  ~FakeZenodo() override;

  std::string BaseUrl() const override;  // http://127.0.0.1:<port>
  std::string AuthorizationEndpoint() const override;
  std::string TokenEndpoint() const override;
  std::string DepositionsEndpoint() const;  // BaseUrl() + "/api/deposit/depositions"

  // Adds a deposition (newest first in the list, as Zenodo sorts by default); returns its id.
  std::int64_t AddDeposition(ZenodoDeposition deposition);

 private:
  http::Response Authorize(const http::Request& request);
  http::Response Token(const http::Request& request);
  http::Response TokenFromCode(const FormFields& params, const ClientCredentials& client);
  http::Response TokenFromRefresh(const FormFields& params, const ClientCredentials& client);
  http::Response Depositions(const http::Request& request);

  std::string NewAccessToken() override;
  std::string NewRefreshToken() override;
  std::string NewCode() override;

  http::Router router_;
  std::uint16_t port_ = 0;
  // Guarded by mutex_.
  std::vector<std::string> allowed_scopes_;
  std::vector<ZenodoDeposition> depositions_;
  std::int64_t next_deposition_id_ = 1000001;
};

}  // namespace keybridge::fakes
