#include "app/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <memory>

namespace keybridge::app {
namespace {

// %j: the message as the body of a JSON string (quotes, backslashes and control characters
// escaped), so a request path or an error message can never break the JSON line.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
              spdlog::memory_buf_t& dest) override {
    static constexpr char kHex[] = "0123456789abcdef";
    for (char c : msg.payload) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        dest.push_back('\\');
        dest.push_back(c);
      } else if (u < 0x20) {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[u >> 4U], kHex[u & 0xfU]};
        dest.append(escaped, escaped + sizeof(escaped));
      } else {
        dest.push_back(c);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

}  // namespace

void ConfigureLogging(LogFormat format, const std::string& level) {
  const bool json = format == LogFormat::kJson || (format == LogFormat::kAuto && isatty(2) == 0);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(
      json ? spdlog::pattern_time_type::utc : spdlog::pattern_time_type::local);
  if (json) {
    formatter->add_flag<JsonEscapedMessage>('j').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","msg":"%j"})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  // Loggers created later through the registry get the same layout.
  spdlog::set_formatter(formatter->clone());
  sink->set_formatter(std::move(formatter));
  auto make = [&sink](const std::string& name) {
    spdlog::drop(name);
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    spdlog::register_logger(logger);
    return logger;
  };
  auto main_logger = make("keybridge");
  for (const char* name : {"http", "storage", "identity", "net"}) {
    make(name);
  }
  spdlog::set_default_logger(main_logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace keybridge::app
