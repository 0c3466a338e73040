#pragma once
// The text the sweep trains on: the licence texts Debian ships in
// /usr/share/common-licenses (package base-files, which is Essential: every
// Debian system has it, nothing to install or download). Whitespace runs are
// collapsed to one space, each file is split 90% / 10% into train /
// validation (the last tenth of every file is held out), and the character
// vocabulary is every byte that occurs.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sweep {

/// The files read by default, in this order (distinct texts: LGPL-2 and
/// GFDL-1.2 are left out because LGPL-2.1 and GFDL-1.3 nearly repeat them).
inline std::vector<std::string> default_corpus_files() {
  const std::string dir = "/usr/share/common-licenses/";
  std::vector<std::string> out;
  for (const char* f : {"GPL-3", "GPL-2", "LGPL-2.1", "GFDL-1.3", "Apache-2.0", "MPL-2.0", "Artistic", "CC0-1.0", "BSD"})
    out.push_back(dir + f);
  return out;
}

struct corpus {
  std::vector<unsigned char> chars;   ///< vocabulary: token id -> byte
  std::vector<std::uint16_t> train;   ///< token ids
  std::vector<std::uint16_t> valid;
  std::size_t bytes_read = 0;
  std::vector<std::string> files;

  int vocab() const { return static_cast<int>(chars.size()); }

  /// Entropy (nats/char) of the character frequencies of the training text:
  /// the loss of the best model that ignores context.
  double unigram_entropy() const {
    std::vector<double> count(chars.size(), 0.0);
    for (auto t : train) count[t] += 1;
    double h = 0;
    for (double c : count)
      if (c > 0) {
        const double p = c / static_cast<double>(train.size());
        h -= p * std::log(p);
      }
    return h;
  }

  /// Cross-entropy (nats/char) of that unigram model (add-one smoothed) on
  /// the validation text.
  double unigram_valid_loss() const {
    std::vector<double> count(chars.size(), 1.0);
    for (auto t : train) count[t] += 1;
    const double total = static_cast<double>(train.size() + chars.size());
    double h = 0;
    for (auto t : valid) h -= std::log(count[t] / total);
    return h / static_cast<double>(valid.size());
  }
};

inline std::string collapse_whitespace(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (unsigned char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(c));
  }
  return out;
}

inline corpus load_corpus(const std::vector<std::string>& files) {
  corpus c;
  c.files = files;
  std::vector<std::string> texts;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw std::runtime_error("cannot read " + path +
                               " (the default corpus is /usr/share/common-licenses from Debian's base-files; "
                               "pass --corpus FILE... to use other text)");
    std::ostringstream ss;
    ss << in.rdbuf();
    c.bytes_read += ss.str().size();
    texts.push_back(collapse_whitespace(ss.str()));
  }
  bool seen[256] = {};
  for (const auto& t : texts)
    for (unsigned char ch : t) seen[ch] = true;
  int id[256];
  for (int b = 0; b < 256; ++b) {
    id[b] = -1;
    if (seen[b]) {
      id[b] = static_cast<int>(c.chars.size());
      c.chars.push_back(static_cast<unsigned char>(b));
    }
  }
  for (const auto& t : texts) {
    const std::size_t cut = t.size() - t.size() / 10;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const auto tok = static_cast<std::uint16_t>(id[static_cast<unsigned char>(t[i])]);
      (i < cut ? c.train : c.valid).push_back(tok);
    }
    // A space between documents, so no window runs one text into the next
    // without a break.
    const int space_id = id[static_cast<unsigned char>(' ')];
    const auto space = static_cast<std::uint16_t>(space_id < 0 ? 0 : space_id);
    c.train.push_back(space);
    c.valid.push_back(space);
  }
  if (c.valid.size() < 1000 || c.train.size() < 10000)
    throw std::runtime_error("corpus too small: need at least 10000 training and 1000 validation characters");
  return c;
}

}  // namespace sweep
