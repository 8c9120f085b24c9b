#include "metrics/exposition_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <utility>

namespace keybridge::metrics {
namespace {

bool IsNameStart(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}
bool IsNameChar(char c, bool allow_colon) {
  return IsNameStart(c, allow_colon) || (c >= '0' && c <= '9');
}

// Consumes a name from the front of `rest`; "" if none.
std::string TakeName(std::string_view& rest, bool allow_colon) {
  std::size_t n = 0;
  while (n < rest.size()
         && (n == 0 ? IsNameStart(rest[n], allow_colon) : IsNameChar(rest[n], allow_colon))) {
    ++n;
  }
  std::string name(rest.substr(0, n));
  rest.remove_prefix(n);
  return name;
}

bool ParseValue(std::string_view text, double& out) {
  if (text == "+Inf" || text == "Inf") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text.empty()) {
    return false;
  }
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (*begin == '+') {
    ++begin;
  }
  const auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end;
}

// The family a sample name belongs to, given the TYPE lines seen so far.
std::string FamilyOf(const std::string& sample, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string_view s(suffix);
    if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
      std::string base = sample.substr(0, sample.size() - s.size());
      const auto it = types.find(base);
      if (it != types.end()
          && (it->second == "histogram" || (it->second == "summary" && s != "_bucket"))) {
        return base;
      }
    }
  }
  return sample;
}

std::string Unescape(std::string_view text, bool allow_quote, bool& ok) {
  std::string out;
  ok = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) {
      ok = false;
      return out;
    }
    switch (text[i]) {
      case '\\':
        out += '\\';
        break;
      case 'n':
        out += '\n';
        break;
      case '"':
        if (!allow_quote) {
          ok = false;
        }
        out += '"';
        break;
      default:
        ok = false;
    }
  }
  return out;
}

core::Error Bad(std::size_t line, const std::string& what) {
  return core::MakeError(core::ErrorCode::kInvalidArgument,
                         "line " + std::to_string(line) + ": " + what);
}

core::Status CheckHistogram(const ParsedFamily& family) {
  // Group by the labels other than le.
  std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
  std::map<std::map<std::string, std::string>, double> counts;
  std::set<std::map<std::string, std::string>> sums;
  for (const ParsedSample& sample : family.samples) {
    auto labels = sample.labels;
    if (sample.name == family.name + "_bucket") {
      const auto le = labels.find("le");
      double bound = 0;
      if (le == labels.end() || !ParseValue(le->second, bound)) {
        return core::MakeError(core::ErrorCode::kInvalidArgument,
                               family.name + ": bucket without a numeric le");
      }
      labels.erase(le);
      buckets[labels].emplace_back(bound, sample.value);
    } else if (sample.name == family.name + "_count") {
      counts[labels] = sample.value;
    } else if (sample.name == family.name + "_sum") {
      sums.insert(labels);
    } else {
      return core::MakeError(core::ErrorCode::kInvalidArgument,
                             family.name + ": unexpected sample " + sample.name);
    }
  }
  for (const auto& [labels, series] : buckets) {
    for (std::size_t i = 1; i < series.size(); ++i) {
      if (!(series[i].first > series[i - 1].first) || series[i].second < series[i - 1].second) {
        return core::MakeError(core::ErrorCode::kInvalidArgument,
                               family.name + ": buckets not increasing and cumulative");
      }
    }
    if (series.empty() || !std::isinf(series.back().first)) {
      return core::MakeError(core::ErrorCode::kInvalidArgument, family.name + ": no +Inf bucket");
    }
    const auto count = counts.find(labels);
    if (count == counts.end() || count->second != series.back().second || !sums.contains(labels)) {
      return core::MakeError(core::ErrorCode::kInvalidArgument,
                             family.name + ": _count missing or not equal to +Inf, or no _sum");
    }
  }
  if (counts.size() != buckets.size() || sums.size() != buckets.size()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           family.name + ": _sum/_count without buckets");
  }
  return core::OkStatus();
}

}  // namespace

core::Result<std::vector<ParsedFamily>> ParseExposition(std::string_view text) {
  std::vector<ParsedFamily> families;
  std::map<std::string, std::string> types;
  std::set<std::string> helps;
  std::set<std::string> finished;  // families whose samples are over (a later one started)
  std::set<std::pair<std::string, std::map<std::string, std::string>>> series;
  if (!text.empty() && text.back() != '\n') {
    return Bad(0, "the text does not end with a line feed");
  }
  std::size_t line_number = 0;
  auto current = [&]() -> ParsedFamily* {
    return families.empty() ? nullptr : &families.back();
  };
  auto open_family = [&](const std::string& name, std::size_t line) -> core::Result<ParsedFamily*> {
    if (current() != nullptr && current()->name == name) {
      return current();
    }
    if (finished.contains(name)
        || std::any_of(families.begin(), families.end(),
                       [&](const auto& f) { return f.name == name; })) {
      return Bad(line, "family " + name + " is split into two groups");
    }
    if (current() != nullptr) {
      finished.insert(current()->name);
    }
    families.push_back(ParsedFamily{name, "untyped", "", {}});
    return current();
  };
  while (!text.empty()) {
    ++line_number;
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    if (line.empty()) {
      continue;
    }
    if (line.front() == '#') {
      std::string_view rest = line.substr(1);
      if (rest.rfind(" HELP ", 0) != 0 && rest.rfind(" TYPE ", 0) != 0) {
        continue;  // a plain comment
      }
      const bool is_help = rest.rfind(" HELP ", 0) == 0;
      rest.remove_prefix(6);
      const std::string name = TakeName(rest, true);
      if (name.empty() || (!rest.empty() && rest.front() != ' ') || (!is_help && rest.empty())) {
        return Bad(line_number, "malformed HELP/TYPE line");
      }
      if (!rest.empty()) {
        rest.remove_prefix(1);
      }
      KEYBRIDGE_ASSIGN_OR_RETURN(ParsedFamily * family, open_family(name, line_number));
      if (is_help) {
        bool ok = false;
        family->help = Unescape(rest, false, ok);
        if (!ok || !helps.insert(name).second) {
          return Bad(line_number, "bad escape in or second HELP for " + name);
        }
      } else {
        const std::string type(rest);
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary"
            && type != "untyped") {
          return Bad(line_number, "unknown type " + type);
        }
        if (types.contains(name) || !family->samples.empty()) {
          return Bad(line_number, "TYPE for " + name + " repeated or after its samples");
        }
        types[name] = type;
        family->type = type;
      }
      continue;
    }
    ParsedSample sample;
    std::string_view rest = line;
    sample.name = TakeName(rest, true);
    if (sample.name.empty()) {
      return Bad(line_number, "a sample line must start with a metric name");
    }
    if (!rest.empty() && rest.front() == '{') {
      rest.remove_prefix(1);
      while (true) {
        if (!rest.empty() && rest.front() == '}') {
          rest.remove_prefix(1);
          break;
        }
        const std::string label = TakeName(rest, false);
        if (label.empty() || rest.size() < 2 || rest[0] != '=' || rest[1] != '"') {
          return Bad(line_number, "malformed label");
        }
        rest.remove_prefix(2);
        std::size_t end = 0;
        while (end < rest.size() && rest[end] != '"') {
          end += rest[end] == '\\' ? std::size_t{2} : std::size_t{1};
        }
        if (end >= rest.size()) {
          return Bad(line_number, "unterminated label value");
        }
        bool ok = false;
        std::string value = Unescape(rest.substr(0, end), true, ok);
        if (!ok || !sample.labels.emplace(label, std::move(value)).second) {
          return Bad(line_number, "bad escape or repeated label " + label);
        }
        rest.remove_prefix(end + 1);
        if (!rest.empty() && rest.front() == ',') {
          rest.remove_prefix(1);
        } else if (rest.empty() || rest.front() != '}') {
          return Bad(line_number, "expected , or } after a label");
        }
      }
    }
    if (rest.empty() || rest.front() != ' ') {
      return Bad(line_number, "expected a space before the value");
    }
    rest.remove_prefix(1);
    const std::size_t space = rest.find(' ');
    if (!ParseValue(rest.substr(0, space), sample.value)) {
      return Bad(line_number, "bad value");
    }
    if (space != std::string_view::npos) {
      std::int64_t timestamp = 0;
      const std::string_view ts = rest.substr(space + 1);
      const auto [ptr, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), timestamp);
      if (ec != std::errc() || ptr != ts.data() + ts.size()) {
        return Bad(line_number, "bad timestamp");
      }
    }
    if (!series.emplace(sample.name, sample.labels).second) {
      return Bad(line_number, "duplicate series " + sample.name);
    }
    const std::string family_name = FamilyOf(sample.name, types);
    KEYBRIDGE_ASSIGN_OR_RETURN(ParsedFamily * family, open_family(family_name, line_number));
    if ((family->type == "counter" || family->type == "gauge") && family_name != sample.name) {
      return Bad(line_number, "sample name does not match its family");
    }
    family->samples.push_back(std::move(sample));
  }
  for (const ParsedFamily& family : families) {
    if (family.type == "histogram") {
      KEYBRIDGE_RETURN_IF_ERROR(CheckHistogram(family));
    }
  }
  return families;
}

const ParsedSample* FindSample(const std::vector<ParsedFamily>& families, std::string_view name,
                               const std::map<std::string, std::string>& labels) {
  for (const ParsedFamily& family : families) {
    for (const ParsedSample& sample : family.samples) {
      if (sample.name == name && sample.labels == labels) {
        return &sample;
      }
    }
  }
  return nullptr;
}

}  // namespace keybridge::metrics
