#include "app/application.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "core/startup_error.h"
#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "http/router.h"
#include "http/server.h"
#include "identity/api_token_authenticator.h"
#include "identity/authenticator.h"
#include "identity/jwt_verifier.h"
#include "net/curl_http_client.h"
#include "net/probe_client.h"
#include "routes/api_routes.h"
#include "routes/request_policy.h"
#include "routes/route_table.h"
#include "service/background_refresher.h"
#include "service/browser_login_service.h"
#include "service/browser_session_service.h"
#include "service/connection_service.h"
#include "service/git_credential_service.h"
#include "service/provider_check_service.h"
#include "service/provider_gateway.h"
#include "service/provider_matcher.h"
#include "service/provider_service.h"
#include "service/repository_service.h"
#include "service/session_scope.h"
#include "service/session_token_service.h"
#include "service/token_service.h"
#include "storage/store.h"
#include "web/web_routes.h"

namespace keybridge::app {
namespace {

std::vector<std::string> SplitAudiences(const std::vector<std::string>& raw) {
  std::vector<std::string> out;
  for (const auto& item : raw) {
    std::size_t start = 0;
    while (start <= item.size()) {
      const auto end = std::min(item.find(',', start), item.size());
      if (end > start) {
        out.push_back(item.substr(start, end - start));
      }
      start = end + 1;
    }
  }
  return out;
}

// The repository check's git probe fetches URLs callers choose: only public addresses, unless
// the administrator allows private ones (git servers on an internal network).
net::ProbeClient::Options ProbeOptions(const ServeConfig& config) {
  net::ProbeClient::Options options;
  options.ca_file = config.ca_file;
  if (config.allow_private_probe) {
    options.policy = net::AnyAddressPolicy();
  }
  return options;
}

template <typename T>
T OrThrow(core::Result<T> result, const std::string& what) {
  if (!result.ok()) {
    throw StartupError(what + ": " + result.error().message);
  }
  return std::move(result).value();
}

}  // namespace

class Application::Impl {
 public:
  explicit Impl(ServeConfig config)
      : config_(std::move(config)),
        // Bind first, so that a defaulted public URL can name the port actually bound (--listen
        // 127.0.0.1:0). Requests are only handled after Start(), when every member exists.
        server_(Bind(config_, [this](http::Request& request) { return Handle(request); })),
        keys_(OrThrow(crypto::KeyRing::LoadOrCreate(config_.key_file, random_),
                      "cannot open the key file " + config_.key_file)),
        store_(OrThrow(storage::OpenStore(config_.database, *keys_), "cannot open the database")),
        http_client_(net::CurlHttpClient::Options{.ca_file = config_.ca_file}),
        probe_client_(ProbeOptions(config_)),
        api_tokens_(*store_->api_tokens, clock_),
        session_tokens_(*store_->session_tokens, clock_),
        providers_(*store_->providers, clock_),
        gateway_(http_client_, clock_),
        provider_matcher_(*store_->providers),
        session_scope_(*store_->connections, provider_matcher_),
        tokens_(*store_->connections, *store_->providers, gateway_, clock_, session_scope_,
                service::TokenServiceOptions{config_.refresh_margin_seconds,
                                             core::PublicUrls(config_.public_url)}),
        sessions_(*store_->session_tokens, session_scope_, random_, clock_,
                  SessionOptions(config_)),
        git_credentials_(*store_->providers, *store_->connections, provider_matcher_, tokens_,
                         core::PublicUrls(config_.public_url)),
        connections_(*store_->connections, *store_->providers, *store_->flows, gateway_, tokens_,
                     random_, clock_,
                     service::ConnectionServiceOptions{core::PublicUrls(config_.public_url),
                                                       config_.allowed_redirect_origins}),
        repositories_(provider_matcher_, *store_->connections, tokens_,
                      core::PublicUrls(config_.public_url), http_client_, probe_client_),
        // The integration check contacts only administrator-configured provider URLs, so it
        // uses the ordinary client (private addresses allowed, like the OAuth flows).
        provider_checks_(
            *store_->providers, http_client_, clock_,
            service::ProviderCheckServiceOptions{core::PublicUrls(config_.public_url)}),
        refresher_(*store_->connections, tokens_, clock_, random_,
                   service::BackgroundRefresherOptions{config_.background_refresh_seconds}),
        browser_sessions_(*store_->browser_sessions, api_tokens_, random_, clock_) {
    const bool secure_cookies = config_.public_url.starts_with("https://");
    if (!config_.oidc_issuer.empty()) {
      identity::JwtVerifier::Options options;
      options.issuer = config_.oidc_issuer;
      options.audiences = SplitAudiences(config_.oidc_audiences);
      options.admin_role = config_.admin_role;
      jwt_ = std::make_unique<identity::JwtVerifier>(options, http_client_, clock_);
    }
    authenticator_ = std::make_unique<identity::Authenticator>(jwt_.get(), api_tokens_,
                                                               session_tokens_, browser_sessions_);
    if (jwt_ != nullptr && !config_.oidc_client_id.empty()) {
      service::BrowserLoginOptions login;
      login.issuer = config_.oidc_issuer;
      login.client_id = config_.oidc_client_id;
      if (!config_.oidc_client_secret.empty()) {
        login.client_secret = core::Secret(config_.oidc_client_secret);
      }
      login.public_urls = core::PublicUrls(config_.public_url);
      browser_login_ = std::make_unique<service::BrowserLoginService>(
          *store_->browser_sessions, gateway_, *jwt_, browser_sessions_, random_, clock_, login);
    }

    routes::ApiServices services{
        .providers = providers_,
        .connections = connections_,
        .tokens = tokens_,
        .repositories = repositories_,
        .sessions = sessions_,
        .git_credentials = git_credentials_,
        .browser_sessions = browser_sessions_,
        .provider_checks = provider_checks_,
        .database_ping = [this] { return store_->Ping(); },
        .connection_options = routes::ConnectionRouteOptions{secure_cookies},
        .auth_options = routes::AuthRouteOptions{secure_cookies, config_.public_url},
        .provider_connection_count =
            [this](const core::ProviderId& id) {
              return store_->connections->CountForProvider(id);
            },
    };
    if (browser_login_ != nullptr) {
      services.browser_login = *browser_login_;
    }
    policy_ = std::make_unique<routes::RequestPolicy>(
        *authenticator_, routes::RequestPolicyOptions{config_.public_url, secure_cookies});
    routes_ = std::make_unique<routes::RouteTable>(*policy_);
    routes::AddApiRoutes(*routes_, services);
    // The web UI is public: its pages load before anyone signs in.
    http::Router web_pages;
    web::AddWebRoutes(web_pages);
    routes_->AddAll(web_pages, routes::Access::kAnonymous);
  }

  // Stop serving before any member a handler uses is destroyed.
  ~Impl() { Stop(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Authentication, access, CSRF and error answers all happen in the route table.
  http::Response Handle(http::Request& request) { return routes_->Dispatch(request); }

  static service::SessionTokenServiceOptions SessionOptions(const ServeConfig& config) {
    service::SessionTokenServiceOptions options;
    options.max_ttl = config.max_session_token_ttl_seconds;
    return options;
  }

  static std::unique_ptr<http::Server> Bind(ServeConfig& config, http::Handler handler) {
    http::ServerOptions options;
    options.host = config.listen_host;
    options.port = config.listen_port;
    options.worker_threads = config.worker_threads;
    auto server = std::make_unique<http::Server>(options, std::move(handler));
    if (config.public_url_defaulted) {
      const bool v6 = config.listen_host.find(':') != std::string::npos;
      config.public_url = "http://" + (v6 ? "[" + config.listen_host + "]" : config.listen_host)
                          + ":" + std::to_string(server->port());
    }
    return server;
  }

  void Start() {
    server_->Start();
    if (config_.background_refresh_seconds.count() > 0) {
      refresher_.Start();
    }
    spdlog::info(
        "keybridge listening on {}:{}; public URL {}; OAuth callback {}/api/data/oauth2/"
        "callback",
        config_.listen_host, server_->port(), config_.public_url, config_.public_url);
    if (config_.allow_private_probe) {
      spdlog::warn(
          "--allow-private-probe is set: the repository check may probe loopback and private "
          "network addresses");
    }
  }
  // Embedded default (no identity issuer): while no administrator has a browser session, every
  // start prints one single-use administrator sign-in link to stdout (logs go to stderr). The
  // token sits in the URL fragment, which browsers never send to a server or proxy log.
  void PrintAdminSignInLink(std::ostream& out) {
    if (!config_.oidc_issuer.empty()) {
      return;
    }
    auto token = browser_sessions_.IssueAdminLinkIfNoAdmin();
    if (!token.ok()) {
      spdlog::warn("could not create the administrator sign-in link: {}", token.error().message);
      return;
    }
    if (!token->has_value()) {
      return;
    }
    out << "Sign in as administrator (one-time link, valid for 1 hour): "
        << core::PublicUrls(config_.public_url).SignInLink((*token)->Reveal()) << std::endl;
  }

  void Stop() {
    refresher_.Stop();
    server_->Stop();
  }
  std::uint16_t port() const { return server_->port(); }
  const ServeConfig& config() const { return config_; }

 private:
  ServeConfig config_;
  std::unique_ptr<http::Server> server_;
  core::SystemClock clock_;
  crypto::SystemRandom random_;
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<storage::Store> store_;
  net::CurlHttpClient http_client_;
  net::ProbeClient probe_client_;  // SSRF-guarded, for URLs callers choose
  std::unique_ptr<identity::JwtVerifier> jwt_;
  identity::ApiTokenAuthenticator api_tokens_;
  identity::SessionTokenAuthenticator session_tokens_;
  std::unique_ptr<identity::Authenticator> authenticator_;
  service::ProviderService providers_;
  service::ProviderGateway gateway_;
  service::ProviderMatcher provider_matcher_;
  service::SessionScopePolicy session_scope_;
  service::TokenService tokens_;
  service::SessionTokenService sessions_;
  service::GitCredentialService git_credentials_;
  service::ConnectionService connections_;
  service::RepositoryService repositories_;
  service::ProviderCheckService provider_checks_;
  service::BackgroundRefresher refresher_;
  service::BrowserSessionService browser_sessions_;
  std::unique_ptr<service::BrowserLoginService> browser_login_;
  std::unique_ptr<routes::RequestPolicy> policy_;
  std::unique_ptr<routes::RouteTable> routes_;
};

Application::Application(ServeConfig config) {
  if (auto valid = Validate(config); !valid.ok()) {
    throw StartupError("invalid configuration:\n" + valid.error().message);
  }
  impl_ = std::make_unique<Impl>(std::move(config));
}

Application::~Application() = default;
void Application::Start() {
  impl_->Start();
}
void Application::Stop() {
  impl_->Stop();
}
void Application::AnnounceAdminSignInLink(std::ostream& out) {
  impl_->PrintAdminSignInLink(out);
}
std::uint16_t Application::port() const {
  return impl_->port();
}
const ServeConfig& Application::config() const {
  return impl_->config();
}

}  // namespace keybridge::app
