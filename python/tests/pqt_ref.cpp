// pqt_ref: the C++ tensor API on raw files, the reference the Python tests
// compare the package with (the package must add nothing to the numbers).
//
//   pqt_ref fake_quant IN.f32 OUT key=value...    OUT.f32
//   pqt_ref quantize   IN.f32 OUT key=value...    OUT.codes, OUT.scales (bytes), OUT.ts (one float32)
//   pqt_ref gaussws    IN.f32 OUT key=value...    OUT.f32 (carrier=float) or OUT.bf16 (carrier=bf16, uint16 bits)
//
// Keys (quant_config / gaussws_config fields, enum values by their C++ names):
//   fmt round overflow scaling(none|tensor|block|tile) block_kind(mx|nvfp4)
//   block_size random_bits sigma seed offset index_base tensor_scale
//   e8m0_rule(floor|ceil|nearest_even|rceil) rows cols tile_rows tile_cols
//   noise(r|gaussian|uniform) delta(block|element) bits carrier(bf16|float)
// Runs serially (threads=1). Exit 0 on success, 1 on error (message on stderr).
//
// PQT_OPTIMIZE
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)

#include <pqt/fake_quant.hpp>
#include <pqt/runtime.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::vector<unsigned char> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<unsigned char> data;
  unsigned char buf[1 << 16];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + got);
  std::fclose(f);
  return data;
}

void write_file(const std::string& path, const void* p, std::size_t bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(p, 1, bytes, f) != bytes) throw std::runtime_error("cannot write " + path);
  std::fclose(f);
}

struct keys {
  std::map<std::string, std::string> kv;
  std::string get(const std::string& k, const std::string& def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  std::uint64_t u64(const std::string& k, std::uint64_t def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : std::strtoull(it->second.c_str(), nullptr, 10);
  }
  float f32(const std::string& k, float def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : std::strtof(it->second.c_str(), nullptr);
  }
};

template <class E>
E pick(const std::string& what, const std::string& v, std::initializer_list<std::pair<const char*, E>> all) {
  for (const auto& p : all)
    if (v == p.first) return p.second;
  throw std::runtime_error("bad " + what + ": " + v);
}

pqt::quant_config quant_cfg(const keys& k) {
  pqt::quant_config c;
  c.format = pqt::format_desc::parse(k.get("fmt", "e4m3"));
  c.round = pqt::parse_rounding(k.get("round", "nearest_even"));
  c.over = pick<pqt::overflow>("overflow", k.get("overflow", "saturate"),
                               {{"saturate", pqt::overflow::saturate}, {"nonsaturating", pqt::overflow::nonsaturating}});
  c.scale = pick<pqt::scaling>("scaling", k.get("scaling", "none"),
                               {{"none", pqt::scaling::none}, {"tensor", pqt::scaling::tensor},
                                {"block", pqt::scaling::block}, {"tile", pqt::scaling::tile}});
  c.block_kind = pick<pqt::block_scale>("block_kind", k.get("block_kind", "mx"),
                                        {{"mx", pqt::block_scale::mx}, {"nvfp4", pqt::block_scale::nvfp4}});
  c.block_size = k.u64("block_size", 32);
  c.random_bits = static_cast<int>(k.u64("random_bits", 32));
  c.sigma = k.f32("sigma", 0.5f);
  c.seed = k.u64("seed", 0);
  c.offset = k.u64("offset", 0);
  c.index_base = k.u64("index_base", 0);
  c.tensor_scale = k.f32("tensor_scale", 0.0f);
  c.e8m0_rule = pick<pqt::e8m0_rounding>("e8m0_rule", k.get("e8m0_rule", "floor"),
                                         {{"floor", pqt::e8m0_rounding::floor}, {"ceil", pqt::e8m0_rounding::ceil},
                                          {"nearest_even", pqt::e8m0_rounding::nearest_even},
                                          {"rceil", pqt::e8m0_rounding::rceil}});
  c.rows = k.u64("rows", 0);
  c.cols = k.u64("cols", 0);
  c.tile_rows = k.u64("tile_rows", 16);
  c.tile_cols = k.u64("tile_cols", 16);
  c.threads = 1;
  return c;
}

pqt::gaussws_config gaussws_cfg(const keys& k) {
  pqt::gaussws_config g;
  g.noise = pick<pqt::noise_kind>("noise", k.get("noise", "r"),
                                  {{"r", pqt::noise_kind::r}, {"gaussian", pqt::noise_kind::gaussian},
                                   {"uniform", pqt::noise_kind::uniform}});
  g.sigma = k.f32("sigma", 1.0f);
  g.delta = pick<pqt::delta_mode>("delta", k.get("delta", "block"),
                                  {{"block", pqt::delta_mode::block}, {"element", pqt::delta_mode::element}});
  g.bits = static_cast<int>(k.u64("bits", 9));
  g.format = pqt::format_desc::parse(k.get("fmt", "e4m3"));
  g.scale = pick<pqt::scaling>("scaling", k.get("scaling", "block"),
                               {{"block", pqt::scaling::block}, {"tensor", pqt::scaling::tensor},
                                {"tile", pqt::scaling::tile}});
  g.block_size = k.u64("block_size", 32);
  g.rows = k.u64("rows", 0);
  g.cols = k.u64("cols", 0);
  g.tile_rows = k.u64("tile_rows", 16);
  g.tile_cols = k.u64("tile_cols", 16);
  g.seed = k.u64("seed", 0);
  g.offset = k.u64("offset", 0);
  g.index_base = k.u64("index_base", 0);
  g.threads = 1;
  return g;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 4) {
    std::fprintf(stderr, "usage: pqt_ref fake_quant|quantize|gaussws IN.f32 OUT key=value...\n");
    return 1;
  }
  const std::string op = argv[1], out = argv[3];
  keys k;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    if (eq == std::string::npos) throw std::runtime_error("expected key=value, got " + a);
    k.kv[a.substr(0, eq)] = a.substr(eq + 1);
  }
  const std::vector<unsigned char> raw = read_file(argv[2]);
  std::vector<float> x(raw.size() / 4);
  if (!raw.empty()) std::memcpy(x.data(), raw.data(), x.size() * 4);
  const std::size_t n = x.size();
  if (op == "fake_quant") {
    std::vector<float> y(n);
    pqt::fake_quant(x.data(), y.data(), n, quant_cfg(k));
    write_file(out + ".f32", y.data(), n * 4);
  } else if (op == "quantize") {
    pqt::quantized q;
    pqt::quantize(x.data(), n, quant_cfg(k), q);
    write_file(out + ".codes", q.codes.data(), q.codes.size());
    write_file(out + ".scales", q.scales.data(), q.scales.size());
    write_file(out + ".ts", &q.tensor_scale, 4);
  } else if (op == "gaussws") {
    const pqt::gaussws_config g = gaussws_cfg(k);
    if (k.get("carrier", "bf16") == "bf16") {
      std::vector<pqt::bf16> y(n);
      pqt::gaussws(x.data(), y.data(), n, g);
      write_file(out + ".bf16", y.data(), n * 2);
    } else {
      std::vector<float> y(n);
      pqt::gaussws(x.data(), y.data(), n, g);
      write_file(out + ".f32", y.data(), n * 4);
    }
  } else {
    throw std::runtime_error("unknown op " + op);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "pqt_ref: %s\n", e.what());
  return 1;
}
