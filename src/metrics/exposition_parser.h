// A strict parser of the Prometheus text exposition format 0.0.4, for tests: it refuses anything
// a scraper could misread (bad names, bad escapes, samples before their TYPE, a family split in
// two, duplicate series, histogram buckets that are not cumulative or lack +Inf or disagree with
// _count), so a test that renders metrics and parses them checks the format, not just strings.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace keybridge::metrics {

struct ParsedSample {
  std::string name;                           // including _bucket/_sum/_count for histograms
  std::map<std::string, std::string> labels;  // unescaped
  double value = 0.0;
};

struct ParsedFamily {
  std::string name;
  std::string type;  // counter, gauge, histogram, summary or untyped
  std::string help;  // unescaped
  std::vector<ParsedSample> samples;
};

// kInvalidArgument naming the line number and the problem.
core::Result<std::vector<ParsedFamily>> ParseExposition(std::string_view text);

// The value of the sample with this name and exactly these labels, if present.
const ParsedSample* FindSample(const std::vector<ParsedFamily>& families, std::string_view name,
                               const std::map<std::string, std::string>& labels);

}  // namespace keybridge::metrics
