#include "app/application.h"

#include <spdlog/spdlog.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "app/admin_link.h"
#include "app/integrations_file.h"
#include "core/bounded_executor.h"
#include "core/rate_limiter.h"
#include "core/startup_error.h"
#include "crypto/key_ring.h"
#include "crypto/system_random.h"
#include "http/router.h"
#include "http/server.h"
#include "identity/api_token_authenticator.h"
#include "identity/authenticator.h"
#include "identity/jwt_verifier.h"
#include "identity/refresh_handle.h"
#include "metrics/serving_metrics.h"
#include "net/curl_http_client.h"
#include "net/probe_client.h"
#include "routes/api_routes.h"
#include "routes/request_policy.h"
#include "routes/route_table.h"
#include "service/audit_log.h"
#include "service/background_refresher.h"
#include "service/browser_login_service.h"
#include "service/browser_session_service.h"
#include "service/connection_service.h"
#include "service/git_credential_service.h"
#include "service/integration_trial_service.h"
#include "service/provider_check_service.h"
#include "service/provider_gateway.h"
#include "service/provider_matcher.h"
#include "service/provider_service.h"
#include "service/readiness_monitor.h"
#include "service/repository_service.h"
#include "service/session_scope.h"
#include "service/session_token_service.h"
#include "service/token_endpoint_service.h"
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
  if (!config.allow_any_probe_port) {
    options.allowed_ports = {80, 443};
  }
  return options;
}

// The compartments (ARCHITECTURE.md, "Compartments"): each class of outside dependency gets its
// own bounded executor, so a slow one fills only its own. Queues are short: a request that cannot
// start soon is better answered 503/429 with Retry-After at once than after a long wait.
core::BoundedExecutorOptions DatabaseCompartment(const ServeConfig& config) {
  // Database work takes milliseconds: a deep queue absorbs bursts (the pool's wait deadline
  // bounds each request when the database itself is slow).
  return {.name = "database",
          .threads = config.worker_threads,
          .queue_capacity = 1024,
          .retry_after = std::chrono::seconds(1)};
}
core::BoundedExecutorOptions ProviderCompartment(const ServeConfig& config) {
  // A refresh storm on one connection sends every reader here, where all but one wait on the
  // in-process single-flight and then answer at once (a queued reader that runs after the refresh
  // finds the token fresh and costs microseconds): a queue of 32x the threads (1 024 by default)
  // lets a burst of a thousand such readers through, measured by bench/run's storm item, while a
  // queued task holds no thread and each provider call stays bounded by its timeout.
  return {.name = "provider",
          .threads = config.provider_concurrency,
          .queue_capacity = config.provider_concurrency * 32,
          .retry_after = std::chrono::seconds(5)};
}
core::BoundedExecutorOptions ProbeCompartment(const ServeConfig& config) {
  // Anyone may ask for a repository check, so past the cap the answer is 429, not 503.
  return {.name = "probe",
          .threads = config.probe_concurrency,
          .queue_capacity = config.probe_concurrency,
          .retry_after = std::chrono::seconds(5),
          .when_full = core::ErrorCode::kTooManyRequests};
}
core::BoundedExecutorOptions IntegrationCheckCompartment() {
  return {.name = "integration-check",
          .threads = 2,
          .queue_capacity = 4,
          .retry_after = std::chrono::seconds(5)};
}

nlohmann::json CompartmentReport(const core::BoundedExecutor& compartment) {
  const core::BoundedExecutorStats stats = compartment.Stats();
  return {{"in_flight", stats.in_flight},
          {"queued", stats.queued},
          {"threads", compartment.threads()},
          {"queue_capacity", compartment.queue_capacity()},
          {"rejected", stats.rejected}};
}

// The read caches and their change feed in /metrics (read at each scrape; the store outlives
// every scrape, which happens only while the server runs).
void AddCacheMetrics(metrics::Registry& registry, const storage::Store& store) {
  using Field = std::uint64_t storage::ReadCacheStats::*;
  const auto per_cache = [&store](Field field) {
    return [&store, field] {
      std::vector<metrics::Sample> samples;
      for (const storage::ReadCacheStats& stats : store.cache_stats()) {
        samples.push_back({{stats.name}, static_cast<double>(stats.*field)});
      }
      return samples;
    };
  };
  using metrics::MetricType;
  registry.AddCallback("keybridge_cache_hits_total", "Reads answered from a cache.",
                       MetricType::kCounter, {"cache"}, per_cache(&storage::ReadCacheStats::hits));
  registry.AddCallback(
      "keybridge_cache_misses_total", "Reads a cache could not answer and sent to the database.",
      MetricType::kCounter, {"cache"}, per_cache(&storage::ReadCacheStats::misses));
  registry.AddCallback(
      "keybridge_cache_bypassed_total",
      "Reads sent to the database because the change feed could not vouch for the cache.",
      MetricType::kCounter, {"cache"}, per_cache(&storage::ReadCacheStats::bypassed));
  registry.AddCallback("keybridge_cache_invalidations_total",
                       "Entries dropped because the database row changed.", MetricType::kCounter,
                       {"cache"}, per_cache(&storage::ReadCacheStats::invalidations));
  registry.AddCallback("keybridge_cache_evictions_total", "Entries dropped to make room.",
                       MetricType::kCounter, {"cache"},
                       per_cache(&storage::ReadCacheStats::evictions));
  registry.AddCallback("keybridge_cache_entries", "Entries in a cache now.", MetricType::kGauge,
                       {"cache"}, [&store] {
                         std::vector<metrics::Sample> samples;
                         for (const storage::ReadCacheStats& stats : store.cache_stats()) {
                           samples.push_back({{stats.name}, static_cast<double>(stats.entries)});
                         }
                         return samples;
                       });
  registry.AddCallback(
      "keybridge_change_feed_current",
      "1 while the change feed vouches for the caches (changes from every replica seen within "
      "1 s), else 0: reads then go to the database.",
      MetricType::kGauge, {}, [&store] {
        const bool current = store.changes != nullptr && store.changes->Current();
        return std::vector<metrics::Sample>{{{}, current ? 1.0 : 0.0}};
      });
  registry.AddCallback(
      "keybridge_change_feed_reconnects_total",
      "Times the change feed lost its database connection and reconnected.", MetricType::kCounter,
      {}, [&store] {
        const double reconnects =
            store.changes == nullptr ? 0.0 : static_cast<double>(store.changes->Reconnects());
        return std::vector<metrics::Sample>{{{}, reconnects}};
      });
}

storage::StoreOptions StoreOptionsOf(const ServeConfig& config) {
  return storage::StoreOptions{.cache_entries = config.cache_entries,
                               .postgres_connections = config.worker_threads};
}

template <typename T>
T OrThrow(core::Result<T> result, const std::string& what) {
  if (!result.ok()) {
    throw StartupError(what + ": " + result.error().message);
  }
  return std::move(result).value();
}

// The running server follows the key file (another process rotates or retires keys); when it
// cannot read the file it keeps its keys and says so.
crypto::KeyRing::Options KeyRingOptions() {
  crypto::KeyRing::Options options;
  options.warn = [](const std::string& warning) {
    spdlog::warn("{}", warning);
  };
  return options;
}

}  // namespace

class Application::Impl {
 public:
  explicit Impl(ServeConfig config)
      : config_(std::move(config)),
        // Bind first, so that a defaulted public URL can name the port actually bound (--listen
        // 127.0.0.1:0). Requests are only handled after Start(), when every member exists.
        server_(Bind(config_, metrics_, http::OffloadingHandler{[this](http::Request& request) {
                       return Handle(request);
                     }})),
        keys_(OrThrow(crypto::KeyRing::LoadOrCreate(config_.key_file, random_, KeyRingOptions()),
                      "cannot open the key file " + config_.key_file)),
        store_(OrThrow(storage::OpenStore(config_.database, *keys_, StoreOptionsOf(config_)),
                       "cannot open the database")),
        http_client_(net::CurlHttpClient::Options{.ca_file = config_.ca_file}),
        probe_client_(ProbeOptions(config_)),
        api_tokens_(*store_->api_tokens, clock_),
        session_tokens_(*store_->session_tokens, clock_),
        audit_(*store_->audit, clock_,
               service::AuditLogOptions{.retention = config_.audit_retention_seconds}),
        providers_(*store_->providers, clock_),
        gateway_(http_client_, clock_),
        provider_matcher_(*store_->providers),
        session_scope_(*store_->connections, provider_matcher_),
        tokens_(*store_->connections, *store_->providers, gateway_, clock_, session_scope_,
                TokenOptions(config_, metrics_, audit_)),
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
        images_(provider_matcher_, *store_->connections, tokens_,
                core::PublicUrls(config_.public_url), http_client_, probe_client_),
        // The integration check contacts only administrator-configured provider URLs, so it
        // uses the ordinary client (private addresses allowed, like the OAuth flows).
        provider_checks_(
            *store_->providers, http_client_, clock_,
            service::ProviderCheckServiceOptions{core::PublicUrls(config_.public_url)}),
        trials_(*store_->trials, *store_->providers, *store_->connections, gateway_, http_client_,
                random_, clock_,
                service::IntegrationTrialOptions{
                    .public_urls = core::PublicUrls(config_.public_url),
                    .waiting_advice_after = config_.trial_waiting_advice_after}),
        refresh_handles_(*keys_, session_tokens_, clock_),
        token_endpoint_(tokens_, *store_->providers, refresh_handles_,
                        core::PublicUrls(config_.public_url), clock_),
        refresher_(*store_->connections, tokens_, clock_, random_,
                   service::BackgroundRefresherOptions{config_.background_refresh_seconds}),
        browser_sessions_(*store_->browser_sessions, api_tokens_, random_, clock_),
        readiness_([this] { return store_->Ping(); }, clock_, service::ReadinessMonitorOptions{}),
        probe_limiter_(clock_,
                       core::RateLimiterOptions{
                           .what = "repository checks",
                           .per_minute = static_cast<double>(config_.probe_rate),
                           .burst = std::max(1.0, static_cast<double>(config_.probe_rate) / 3),
                       }),
        image_check_limiter_(
            clock_,
            core::RateLimiterOptions{
                .what = "image checks",
                .per_minute = static_cast<double>(config_.probe_rate),
                .burst = std::max(1.0, static_cast<double>(config_.probe_rate) / 3),
            }),
        sign_in_limiter_(
            clock_,
            core::RateLimiterOptions{.what = "sign-in starts", .per_minute = 30, .burst = 10}),
        database_compartment_(DatabaseCompartment(config_)),
        provider_compartment_(ProviderCompartment(config_)),
        probe_compartment_(ProbeCompartment(config_)),
        integration_check_compartment_(IntegrationCheckCompartment()) {
    const bool secure_cookies = config_.public_url.starts_with("https://");
    providers_.SetAuditLog(&audit_);
    sessions_.SetAuditLog(&audit_);
    browser_sessions_.SetAuditLog(&audit_);
    if (!config_.oidc_issuer.empty()) {
      identity::JwtVerifier::Options options;
      options.issuer = config_.oidc_issuer;
      options.audiences = SplitAudiences(config_.oidc_audiences);
      options.sign_in_client_id = config_.oidc_client_id;
      options.extra_jwks_origins = config_.oidc_jwks_origins;
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
        .images = images_,
        .browser_sessions = browser_sessions_,
        .provider_checks = provider_checks_,
        .trials = trials_,
        .token_endpoint = token_endpoint_,
        .audit = audit_,
        .readiness = [this] { return Readiness(); },
        .metrics = [this] { return metrics_.Render(); },
        .repository_check_limiter = &probe_limiter_,
        .image_check_limiter = &image_check_limiter_,
        .sign_in_limiter = &sign_in_limiter_,
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
    routes_ = std::make_unique<routes::RouteTable>(
        *policy_, routes::Compartments{.database = &database_compartment_,
                                       .provider = &provider_compartment_,
                                       .probe = &probe_compartment_,
                                       .integration_check = &integration_check_compartment_});
    routes::AddApiRoutes(*routes_, services);
    for (const core::BoundedExecutor* compartment :
         {&database_compartment_, &provider_compartment_, &probe_compartment_,
          &integration_check_compartment_}) {
      metrics_.WatchCompartment(*compartment);
    }
    AddCacheMetrics(metrics_.registry(), *store_);
    metrics_.registry().AddCallback(
        "keybridge_audit_events_dropped_total",
        "Audit events not stored because the queue was full (their log lines were written).",
        metrics::MetricType::kCounter, {}, [this] {
          return std::vector<metrics::Sample>{{{}, static_cast<double>(audit_.dropped())}};
        });
    metrics_.WatchDatabasePool([this] {
      const storage::PoolStats pool = store_->database->Stats();
      return metrics::DatabasePoolSnapshot{
          pool.max_connections, pool.in_use,        pool.idle,
          pool.waits,           pool.wait_timeouts, pool.connect_failures};
    });
    // The web UI is public: its pages load before anyone signs in.
    http::Router web_pages;
    web::AddWebRoutes(web_pages);
    routes_->AddAll(web_pages);
    ApplyIntegrationsFile();
  }

  // --integrations-file: before serving, so no request sees the integrations half applied.
  void ApplyIntegrationsFile() {
    if (config_.integrations_file.empty()) {
      return;
    }
    // Replicas of one Deployment start together and apply the same file (ApplyConverging).
    auto applied = service::ApplyConverging(
        [this] {
          return PlanIntegrationsFile(config_.integrations_file, config_.integrations_prune,
                                      providers_);
        },
        providers_, IntegrationsFileCaller(), connections_);
    if (!applied.ok()) {
      throw StartupError("--integrations-file " + config_.integrations_file + ": "
                         + applied.error().message);
    }
    LogAppliedPlan(*applied);
  }

  void LogAppliedPlan(const service::IntegrationPlan& plan) const {
    std::string summary = service::DescribePlan(plan);
    if (summary.ends_with('\n')) {
      summary.pop_back();
    }
    spdlog::info("integrations file {} applied: {}", config_.integrations_file, summary);
  }

  // Stop serving before any member a handler uses is destroyed.
  ~Impl() {
    Stop();
    for (const core::BoundedExecutor* compartment :
         {&database_compartment_, &provider_compartment_, &probe_compartment_,
          &integration_check_compartment_}) {
      metrics_.UnwatchCompartment(*compartment);
    }
    metrics_.WatchDatabasePool({});
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Authentication, access, CSRF, compartments and error answers all happen in the route table.
  http::Reply Handle(http::Request& request) { return routes_->Dispatch(request); }

  // /readyz, from memory: the database as the readiness monitor last saw it, and how full each
  // compartment is (a full provider compartment is a provider's problem, not a reason to take
  // this replica out of service, so it is reported but does not fail the probe).
  core::Result<nlohmann::json> Readiness() const {
    const service::DatabaseReadiness database = readiness_.Database();
    if (!database.reachable) {
      return core::MakeError(core::ErrorCode::kUnavailable, "Not ready: " + database.problem + ".")
          .WithRetryAfter(std::chrono::seconds(1));
    }
    return nlohmann::json{
        {"database", "ok"},
        {"compartments",
         {{"database", CompartmentReport(database_compartment_)},
          {"provider", CompartmentReport(provider_compartment_)},
          {"probe", CompartmentReport(probe_compartment_)},
          {"integration-check", CompartmentReport(integration_check_compartment_)}}}};
  }

  static service::TokenServiceOptions TokenOptions(const ServeConfig& config,
                                                   metrics::ServingMetrics& metrics,
                                                   service::AuditLog& audit) {
    service::TokenServiceOptions options{config.refresh_margin_seconds,
                                         core::PublicUrls(config.public_url)};
    options.audit = &audit;
    options.on_provider_refresh = [&metrics](const core::ProviderId& provider,
                                             std::string_view outcome) {
      metrics.RecordRefresh(provider.value(), outcome);
    };
    return options;
  }

  static service::SessionTokenServiceOptions SessionOptions(const ServeConfig& config) {
    service::SessionTokenServiceOptions options;
    options.max_ttl = config.max_session_token_ttl_seconds;
    return options;
  }

  static std::unique_ptr<http::Server> Bind(ServeConfig& config, metrics::ServingMetrics& metrics,
                                            http::OffloadingHandler handler) {
    http::ServerOptions options;
    options.metrics = &metrics;
    options.host = config.listen_host;
    options.port = config.listen_port;
    options.worker_threads = config.io_threads;
    options.max_connections = config.max_connections;
    auto server = std::make_unique<http::Server>(options, std::move(handler));
    if (config.public_url_defaulted) {
      const bool v6 = config.listen_host.find(':') != std::string::npos;
      config.public_url = "http://" + (v6 ? "[" + config.listen_host + "]" : config.listen_host)
                          + ":" + std::to_string(server->port());
    }
    return server;
  }

  void Start() {
    readiness_.Start();
    audit_.Start();
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
  // Embedded default (no identity issuer): until an administrator has signed in once, every start
  // issues one single-use administrator sign-in link. It goes to a 0600 file next to the key
  // file, and `out` (stdout) gets only where it is, so logs collected from stdout never carry a
  // working admin link. Afterwards `keybridge admin-link` issues one on request.
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
    const std::string path = AdminSignInLinkPath(config_.key_file);
    const core::Status written = WriteAdminSignInLink(
        path, core::PublicUrls(config_.public_url).SignInLink((*token)->Reveal()));
    if (!written.ok()) {
      spdlog::warn("could not write the administrator sign-in link: {}", written.error().message);
      return;
    }
    out << "Sign in as administrator: open the one-time link in " << path << " (valid for 1 hour)"
        << std::endl;
  }

  void Stop() {
    refresher_.Stop();
    server_->Stop();
    readiness_.Stop();
    audit_.Stop();  // after the server: writes what the last requests recorded
  }
  std::uint16_t port() const { return server_->port(); }
  const ServeConfig& config() const { return config_; }

 private:
  ServeConfig config_;
  metrics::ServingMetrics metrics_{KEYBRIDGE_VERSION_STRING};  // before server_, which records
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
  service::AuditLog audit_;  // before every service that records into it
  service::ProviderService providers_;
  service::ProviderGateway gateway_;
  service::ProviderMatcher provider_matcher_;
  service::SessionScopePolicy session_scope_;
  service::TokenService tokens_;
  service::SessionTokenService sessions_;
  service::GitCredentialService git_credentials_;
  service::ConnectionService connections_;
  service::RepositoryService repositories_;
  service::ImageService images_;
  service::ProviderCheckService provider_checks_;
  service::IntegrationTrialService trials_;
  identity::RefreshHandles refresh_handles_;
  service::TokenEndpointService token_endpoint_;
  service::BackgroundRefresher refresher_;
  service::BrowserSessionService browser_sessions_;
  std::unique_ptr<service::BrowserLoginService> browser_login_;
  service::ReadinessMonitor readiness_;
  core::RateLimiter probe_limiter_;
  core::RateLimiter image_check_limiter_;
  core::RateLimiter sign_in_limiter_;
  core::BoundedExecutor database_compartment_;
  core::BoundedExecutor provider_compartment_;
  core::BoundedExecutor probe_compartment_;
  core::BoundedExecutor integration_check_compartment_;
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
