// precision_sweep — the main job: train a small character-level transformer
// language model (plain C++, hand-written backward pass, no ML framework) on
// the licence texts every Debian system ships, with every GEMM operand
// (weights, activations, output gradients) fake-quantized by pqt, across
// precision recipes x learning rates x seeds. Reports final validation loss,
// divergences, loss spikes and last-token sharpness (To FP8 and Back Again),
// and writes every loss curve as CSV and an SVG plot.
//
//   build/release/examples/precision_sweep                 # the default sweep, under 5 minutes on 2 cores
//   build/release/examples/precision_sweep --full          # the long study (5 seeds, LR 1x/3x/10x)
//   build/release/examples/precision_sweep --quick --check # CI smoke test, about 30 s
//   build/release/examples/precision_sweep --help
//
// Files: precision_sweep/{corpus,model,gemm,train,quant_recipes,svg,gradcheck,platform}.hpp.
// Build markers (cmake/dev-options.cmake): PQT_USES_OPENMP PQT_OPTIMIZE PQT_USES_TENSOR_LIB

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "precision_sweep/corpus.hpp"
#include "precision_sweep/gradcheck.hpp"
#include "precision_sweep/model.hpp"
#include "precision_sweep/platform.hpp"
#include "precision_sweep/quant_recipes.hpp"
#include "precision_sweep/svg.hpp"
#include "precision_sweep/train.hpp"

namespace {

using namespace sweep;

struct options {
  std::string out = "out/precision_sweep";
  bool quick = false, full = false, check = false, gradcheck = false, list = false;
  int seeds = 3;
  std::vector<double> lr_mults{1, 10};
  std::vector<std::string> recipes;  // empty: the default set
  std::vector<std::string> corpus;
  int threads = 0;
  train_config tc;
};

/// The default sweep: the rows that decide each paper's claims (README).
/// --full runs full_recipes; --recipes can name any of known_recipes (--list).
const char* const default_recipes[] = {"bf16",       "e8m3_rne",     "e5m7_rne",     "e5m7_sr",  "e5m3_rne",
                                       "mxfp8_e4m3", "gaussws_e2m3", "gaussws_e2m1", "diffq_b4", "diffq_b4_var"};
const char* const full_recipes[] = {
    "bf16",        "e8m6_rne",     "e8m5_rne",     "e8m4_rne",      "e8m3_rne",      "e8m6_trunc",   "e8m5_trunc",
    "e8m4_trunc",  "e8m3_trunc",   "e8m6_sr",      "e8m5_sr",       "e8m4_sr",       "e8m3_sr",      "e6m7_rne",
    "e6m7_sr",     "e5m7_rne",     "e5m7_sr",      "e5m5_rne",      "e5m5_sr",       "e5m3_rne",     "e5m3_sr",
    "e4m3ieee_rne", "e4m3ieee_sr",      "fp8_e4m3_e5m2", "mxfp8_e4m3",   "gaussws_b9",    "gaussws_b6",   "gaussws_b4",
    "gaussws_e3m2", "gaussws_e2m3", "gaussws_e2m1", "gaussws_bf16ulp", "diffq_b6",   "diffq_b6_var", "diffq_b4",
    "diffq_b4_var"};
const char* const quick_recipes[] = {"bf16", "e5m7_rne", "fp8_e4m3_e5m2", "mxfp8_e4m3", "gaussws_e2m1"};
/// Evaluated on every run's final weights: noise-free bf16, then MXFP6 / MXFP4
/// weights with a scale per 32 and E2M3 / E2M1 with a scale per output.
const char* const post_recipes[] = {"bf16",        "ptq_mx_e2m3",  "ptq_mx_e3m2",
                                     "ptq_mx_e2m1", "ptq_row_e2m3", "ptq_row_e2m1"};

void usage(std::FILE* f) {
  std::fprintf(f,
               "usage: precision_sweep [options]\n"
               "  --out DIR          write curves.csv, summary.csv, curves.svg here (default out/precision_sweep)\n"
               "  --quick            CI smoke test: %zu recipes, 1 seed, LR 1x and 10x, 400 steps\n"
               "  --full             the long study: %zu recipes, 5 seeds, LR 1x, 3x and 10x (about 40 minutes on 2 cores)\n"
               "  --check            exit 1 unless every table row is there and bf16 at 1x learned\n"
               "                     (finite, no divergence, validation loss below the unigram entropy)\n"
               "  --gradcheck        check the backward pass against finite differences and exit\n"
               "  --seeds N          seeds per recipe and LR (default 3)\n"
               "  --lr X             the tuned peak learning rate, \"1x\" (default %g)\n"
               "  --lr-mults A,B,..  learning-rate multipliers (default 1,10)\n"
               "  --steps N          training steps per run (default %d)\n"
               "  --batch N          sequences per step (default %d; %d characters each)\n"
               "  --recipes A,B,..   recipes to run (default: the full set; --list shows all)\n"
               "  --threads N        runs trained in parallel (default: OpenMP's thread count)\n"
               "  --corpus FILE...   train on these files instead of /usr/share/common-licenses (up to the next --option)\n"
               "  --list             list the recipes and exit\n",
               sizeof quick_recipes / sizeof *quick_recipes, sizeof full_recipes / sizeof *full_recipes, train_config{}.lr, train_config{}.steps, train_config{}.batch,
               train_config{}.model.ctx);
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

bool parse_int(const char* s, int lo, int hi, int& v) {
  char* end = nullptr;
  const long x = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || x < lo || x > hi) return false;
  v = static_cast<int>(x);
  return true;
}

bool parse_double(const char* s, double& v) {
  char* end = nullptr;
  v = std::strtod(s, &end);
  return end != s && *end == '\0' && std::isfinite(v) && v > 0;
}

/// Returns 0 to go on, or an exit status.
int parse(int argc, char** argv, options& o) {
  bool steps_set = false, seeds_set = false, mults_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "precision_sweep: %s needs %s\n", a.c_str(), what);
        return nullptr;
      }
      return argv[++i];
    };
    const char* v = nullptr;
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return -1;
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--full") {
      o.full = true;
    } else if (a == "--check") {
      o.check = true;
    } else if (a == "--gradcheck") {
      o.gradcheck = true;
    } else if (a == "--list") {
      o.list = true;
    } else if (a == "--out") {
      if (!(v = value("a folder"))) return 2;
      o.out = v;
    } else if (a == "--seeds") {
      if (!(v = value("a count")) || !parse_int(v, 1, 1000, o.seeds)) return std::fprintf(stderr, "precision_sweep: --seeds takes 1..1000\n"), 2;
      seeds_set = true;
    } else if (a == "--steps") {
      if (!(v = value("a count")) || !parse_int(v, 10, 10000000, o.tc.steps))
        return std::fprintf(stderr, "precision_sweep: --steps takes 10..10000000\n"), 2;
      steps_set = true;
    } else if (a == "--batch") {
      if (!(v = value("a count")) || !parse_int(v, 1, 4096, o.tc.batch)) return std::fprintf(stderr, "precision_sweep: --batch takes 1..4096\n"), 2;
    } else if (a == "--threads") {
      if (!(v = value("a count")) || !parse_int(v, 1, 1024, o.threads)) return std::fprintf(stderr, "precision_sweep: --threads takes 1..1024\n"), 2;
    } else if (a == "--lr") {
      if (!(v = value("a number")) || !parse_double(v, o.tc.lr)) return std::fprintf(stderr, "precision_sweep: --lr takes a positive number\n"), 2;
    } else if (a == "--lr-mults") {
      if (!(v = value("a list"))) return 2;
      o.lr_mults.clear();
      for (const auto& s : split_commas(v)) {
        double m;
        if (!parse_double(s.c_str(), m)) return std::fprintf(stderr, "precision_sweep: bad --lr-mults entry '%s'\n", s.c_str()), 2;
        o.lr_mults.push_back(m);
      }
      if (o.lr_mults.empty()) return std::fprintf(stderr, "precision_sweep: --lr-mults is empty\n"), 2;
      mults_set = true;
    } else if (a == "--recipes") {
      if (!(v = value("a list"))) return 2;
      o.recipes = split_commas(v);
    } else if (a == "--corpus") {
      while (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) o.corpus.push_back(argv[++i]);
      if (o.corpus.empty()) return std::fprintf(stderr, "precision_sweep: --corpus needs at least one file\n"), 2;
    } else {
      std::fprintf(stderr, "precision_sweep: unknown option '%s'\n\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }
  if (o.quick && o.full) return std::fprintf(stderr, "precision_sweep: --quick and --full exclude each other\n"), 2;
  if (o.quick) {
    if (o.recipes.empty()) o.recipes.assign(std::begin(quick_recipes), std::end(quick_recipes));
    o.seeds = 1;
    if (!steps_set) o.tc.steps = 400;
  }
  if (o.full) {
    if (o.recipes.empty()) o.recipes.assign(std::begin(full_recipes), std::end(full_recipes));
    if (!seeds_set) o.seeds = 5;
    if (!mults_set) o.lr_mults = {1, 3, 10};
  }
  o.tc.eval_every = std::max(1, std::min(o.tc.eval_every, o.tc.steps / 8));
  return 0;
}

struct cell {  // one table row: a recipe at one learning rate
  std::vector<const run_result*> runs;
};

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
}
double sd_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

std::string mean_sd(const std::vector<double>& v, int prec) {
  if (v.empty()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f ± %.*f", prec, mean_of(v), prec, sd_of(v));
  return buf;
}

/// s padded with spaces to w columns (counting UTF-8 code points: "±" is
/// two bytes, one column).
std::string pad(const std::string& s, std::size_t w) {
  std::size_t cols = 0;
  for (unsigned char c : s) cols += (c & 0xC0) != 0x80;
  return cols >= w ? s : s + std::string(w - cols, ' ');
}

std::string lr_label(double m) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gx", m);
  return buf;
}

bool make_dirs(const std::string& path) {
  std::string cur;
  std::stringstream ss(path);
  std::string part;
  if (!path.empty() && path[0] == '/') cur = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += part + "/";
    if (mkdir(cur.c_str(), 0777) != 0 && errno != EEXIST) return false;
  }
  return true;
}

// Plot colours by family; darker = fewer mantissa bits / fewer noise bits
// (the recipes expected to stray furthest from bf16).
std::string series_color(const recipe& r) {
  static const std::map<std::string, std::vector<std::string>> shades = {
      {"e8m_rne", {"#08306b", "#2171b5", "#6baed6", "#9ecae1"}},
      {"e8m_trunc", {"#67000d", "#cb181d", "#fb6a4a", "#fcae91"}},
      {"e8m_sr", {"#00441b", "#238b45", "#74c476", "#a1d99b"}},
      {"gaussws", {"#014636", "#02818a", "#67a9cf"}},
      {"diffq", {"#7f2704", "#d94801"}},
      {"exp_rne", {"#3f007d", "#6a51a3", "#9e9ac8"}},
      {"exp_sr", {"#49006a", "#ae017e", "#f768a1"}},
      {"gaussws_fp", {"#00441b", "#41ab5d", "#a1d99b"}},
  };
  if (r.group == "bf16") return "#000000";
  if (r.group == "fp32") return "#777777";
  if (r.name == "fp8_e4m3_e5m2") return "#6a3d9a";
  if (r.name == "mxfp8_e4m3") return "#ff7f00";
  auto it = shades.find(r.group);
  if (it == shades.end()) return "#999999";
  std::size_t k = 0;
  if (r.kind == recipe_kind::e8m) k = static_cast<std::size_t>(std::max(0, r.mantissa - 3));
  if (r.kind == recipe_kind::gaussws) k = r.bits <= 4 ? 0 : r.bits <= 6 ? 1 : 2;
  if (r.kind == recipe_kind::diffq) k = r.bits <= 4 ? 0 : 1;
  if (r.kind == recipe_kind::minifloat) k = static_cast<std::size_t>(std::max(0, r.format.facts().e - 4));
  if (r.kind == recipe_kind::gaussws && r.element_delta)
    k = r.format.total_bits() <= 4 ? 0 : r.format.total_bits() <= 6 ? 1 : 2;
  return it->second[std::min(k, it->second.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  const int parsed = parse(argc, argv, o);
  if (parsed != 0) return parsed < 0 ? 0 : parsed;

  const std::vector<recipe> all = known_recipes();
  if (o.list) {
    for (const auto& r : all) std::printf("%s\n", r.name.c_str());
    return 0;
  }
  if (o.gradcheck) return run_gradcheck() ? 0 : 1;

  if (o.recipes.empty()) o.recipes.assign(std::begin(default_recipes), std::end(default_recipes));
  std::vector<std::size_t> chosen;
  for (const auto& name : o.recipes) {
    std::size_t k = 0;
    while (k < all.size() && all[k].name != name) ++k;
    if (k == all.size()) {
      std::fprintf(stderr, "precision_sweep: unknown recipe '%s' (--list shows them)\n", name.c_str());
      return 2;
    }
    chosen.push_back(k);
  }

  for (const char* name : post_recipes)
    for (const auto& r : all)
      if (r.name == name) o.tc.post.push_back(&r);

  corpus text;
  try {
    text = load_corpus(o.corpus.empty() ? default_corpus_files() : o.corpus);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "precision_sweep: %s\n", e.what());
    return 1;
  }
  if (text.valid.size() < static_cast<std::size_t>(o.tc.model.ctx) + 2) {
    std::fprintf(stderr, "precision_sweep: validation text shorter than a window\n");
    return 1;
  }
  train_config& tc = o.tc;
  tc.model.vocab = text.vocab();
  const double h_unigram = text.unigram_entropy(), h_unigram_valid = text.unigram_valid_loss();

  if (!make_dirs(o.out)) {
    std::fprintf(stderr, "precision_sweep: cannot create %s: %s\n", o.out.c_str(), std::strerror(errno));
    return 1;
  }

  // ---- header (stdout: deterministic, no timings) -------------------------------
  const std::size_t nparams = param_layout(tc.model).total;
  std::printf("pqt precision sweep: character-level transformer, %d layers, d=%d, %d heads, MLP %d, context %d, "
              "%zu parameters\n",
              tc.model.layers, tc.model.dim, tc.model.heads, tc.model.mlp, tc.model.ctx, nparams);
  std::printf("corpus: %zu files (%s), whitespace collapsed, last 10%% of each file held out: %zu train / %zu "
              "validation characters, vocabulary %d\n",
              text.files.size(), o.corpus.empty() ? "/usr/share/common-licenses, Debian base-files" : "--corpus",
              text.train.size(), text.valid.size(), text.vocab());
  std::printf("unigram entropy of the training text: %.3f nats/char (unigram model on validation: %.3f)\n", h_unigram,
              h_unigram_valid);
  std::printf("training: AdamW (b1 %.2f, b2 %.2f, wd %.2g), %d steps x %d sequences, warmup %d%% + cosine to %d%%, "
              "clip %.1f; tuned LR %g; %d seed(s) x LR {",
              tc.beta1, tc.beta2, tc.weight_decay, tc.steps, tc.batch, static_cast<int>(tc.warmup_frac * 100),
              static_cast<int>(tc.min_lr_frac * 100), tc.clip, tc.lr, o.seeds);
  for (std::size_t i = 0; i < o.lr_mults.size(); ++i) std::printf("%s%s", i ? ", " : "", lr_label(o.lr_mults[i]).c_str());
  std::printf("}\n");
  std::printf("diverged: NaN/Inf, or validation loss > running minimum + %.1f nats (checked every %d steps); "
              "spike: training loss > its EMA + %.1f nats; sharpness: last-token, eps %g, %d PGA steps, at steps/%d "
              "checkpoints, final shown\n\n",
              tc.divergence_margin, tc.eval_every, tc.spike_margin, tc.sharp.eps, tc.sharp.steps, tc.sharp_checkpoints);
  std::fflush(stdout);

  // ---- the runs ------------------------------------------------------------------
  struct job {
    std::size_t recipe;
    int lr_index, seed;
  };
  std::vector<job> jobs;
  for (std::size_t r : chosen)
    for (int li = 0; li < static_cast<int>(o.lr_mults.size()); ++li)
      for (int s = 0; s < o.seeds; ++s) jobs.push_back({r, li, s});
  std::vector<run_result> results(jobs.size());

  int threads = o.threads;
#if defined(_OPENMP)
  if (threads <= 0) threads = omp_get_max_threads();
#else
  threads = 1;
#endif
  const long total_steps = static_cast<long>(jobs.size()) * tc.steps;
  std::atomic<long> steps_done{0};
  std::atomic<int> runs_done{0};
  std::mutex bar_mutex;
  const bool tty = isatty(fileno(stderr)) != 0;
  int shown = -1;
  const auto t0 = std::chrono::steady_clock::now();
  auto draw = [&](bool final_draw) {
    const long done = steps_done.load();
    const int pct = static_cast<int>(100 * done / std::max(1L, total_steps));
    std::lock_guard<std::mutex> lock(bar_mutex);
    if (!final_draw && (pct == shown || (!tty && pct / 10 == shown / 10))) return;
    shown = pct;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int width = 30, fill = pct * width / 100;
    std::fprintf(stderr, "%s[%s%s] %3d%%  %d/%zu runs  %.0fs", tty ? "\r" : "", std::string(static_cast<std::size_t>(fill), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - fill), '.').c_str(), pct, runs_done.load(), jobs.size(), el);
    if (done > 0 && done < total_steps) std::fprintf(stderr, ", ~%.0fs left", el * (total_steps - done) / done);
    std::fprintf(stderr, tty && !final_draw ? "   " : "\n");
    std::fflush(stderr);
  };
  const std::function<void(int)> tick = [&](int n) {
    steps_done += n;
    draw(false);
  };
  std::fprintf(stderr, "precision_sweep: %zu runs on %d thread(s)\n", jobs.size(), threads);
  draw(false);

  const long njobs = static_cast<long>(jobs.size());
  SWEEP_PRAGMA(omp parallel for schedule(dynamic, 1) num_threads(threads))
  for (long j = 0; j < njobs; ++j) {
    const job& jb = jobs[static_cast<std::size_t>(j)];
    results[static_cast<std::size_t>(j)] =
        train_run(text, tc, all[jb.recipe], tc.lr * o.lr_mults[static_cast<std::size_t>(jb.lr_index)], jb.seed, tick);
    results[static_cast<std::size_t>(j)].recipe_index = jb.recipe;
    results[static_cast<std::size_t>(j)].lr_index = jb.lr_index;
    ++runs_done;
  }
  draw(true);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = 0;
  for (const auto& r : results) cpu += r.seconds;
  std::fprintf(stderr, "precision_sweep: %.1f s wall, %.1f s summed over runs\n", wall, cpu);

  // ---- the table -------------------------------------------------------------------
  std::vector<std::vector<cell>> cells(chosen.size(), std::vector<cell>(o.lr_mults.size()));
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const std::size_t ci = static_cast<std::size_t>(
        std::find(chosen.begin(), chosen.end(), jobs[j].recipe) - chosen.begin());
    cells[ci][static_cast<std::size_t>(jobs[j].lr_index)].runs.push_back(&results[j]);
  }
  std::printf("%-17s %-5s %-16s %-9s %-7s %s\n", "recipe", "LR", "final val loss", "diverged", "spikes",
              "sharpness");
  std::ofstream summary(o.out + "/summary.csv");
  summary << "recipe,lr_mult,lr,seeds,val_mean,val_sd,diverged,spikes,sharpness_mean,sharpness_sd,val_per_seed\n";
  int rows = 0;
  bool learned = false, bf16_seen = false;
  double bf16_val = std::nan("");
  for (std::size_t ci = 0; ci < chosen.size(); ++ci) {
    const recipe& rec = all[chosen[ci]];
    for (std::size_t li = 0; li < o.lr_mults.size(); ++li) {
      std::vector<double> vals, sharps;
      int div = 0, spikes = 0;
      std::string per_seed;
      for (const run_result* r : cells[ci][li].runs) {
        if (r->diverged) ++div;
        else {
          vals.push_back(r->final_val);
          sharps.push_back(r->final_sharp);
        }
        spikes += r->spikes;
        char b[32];
        std::snprintf(b, sizeof b, "%s%.4f", per_seed.empty() ? "" : ";", r->diverged ? std::nan("") : r->final_val);
        per_seed += b;
      }
      const int n = static_cast<int>(cells[ci][li].runs.size());
      char dv[16];
      std::snprintf(dv, sizeof dv, "%d/%d", div, n);
      std::printf("%-17s %-5s %s %-9s %-7d %s\n", rec.name.c_str(), lr_label(o.lr_mults[li]).c_str(),
                  pad(mean_sd(vals, 3), 16).c_str(), dv, spikes, mean_sd(sharps, 2).c_str());
      ++rows;
      summary << rec.name << "," << o.lr_mults[li] << "," << tc.lr * o.lr_mults[li] << "," << n << ","
              << (vals.empty() ? std::string("") : fmt_num(mean_of(vals), 4)) << ","
              << (vals.empty() ? std::string("") : fmt_num(sd_of(vals), 4)) << "," << div << "," << spikes << ","
              << (sharps.empty() ? std::string("") : fmt_num(mean_of(sharps), 3)) << ","
              << (sharps.empty() ? std::string("") : fmt_num(sd_of(sharps), 3)) << "," << per_seed << "\n";
      if (rec.name == "bf16" && li == 0) {
        bf16_seen = true;
        bf16_val = mean_of(vals);
        learned = div == 0 && !vals.empty() && bf16_val < h_unigram;
      }
    }
  }
  std::printf("\n");

  // ---- post-training quantization of the final weights ------------------------------
  std::printf("final master weights evaluated without noise: as bf16, and quantized to MXFP6 / MXFP4 (mx_: e8m0 per 32\n"
              "along the input features; row_: one e8m0 per output, all its input features; RNE; activations bf16);\n"
              "validation loss, mean ± sd over the runs that did not diverge\n");
  std::printf("%-17s %-5s", "recipe", "LR");
  for (const recipe* r : tc.post) std::printf(" %-16s", r->name == "bf16" ? "bf16" : r->name.substr(4).c_str());
  std::printf("\n");
  std::ofstream ptq(o.out + "/ptq.csv");
  ptq << "recipe,lr_mult,eval,runs,val_mean,val_sd\n";
  for (std::size_t ci = 0; ci < chosen.size(); ++ci)
    for (std::size_t li = 0; li < o.lr_mults.size(); ++li) {
      std::printf("%-17s %-5s", all[chosen[ci]].name.c_str(), lr_label(o.lr_mults[li]).c_str());
      for (std::size_t k = 0; k < tc.post.size(); ++k) {
        std::vector<double> v;
        for (const run_result* r : cells[ci][li].runs)
          if (k < r->post_val.size()) v.push_back(r->post_val[k]);
        std::printf(" %s", pad(mean_sd(v, 3), 16).c_str());
        ptq << all[chosen[ci]].name << "," << o.lr_mults[li] << "," << tc.post[k]->name << "," << v.size() << ","
            << (v.empty() ? std::string("") : fmt_num(mean_of(v), 4)) << ","
            << (v.empty() ? std::string("") : fmt_num(sd_of(v), 4)) << "\n";
      }
      std::printf("\n");
    }
  std::printf("\n");
  if (bf16_seen)
    std::printf("bf16 at %s LR: validation loss %.3f nats/char vs unigram entropy %.3f (%s)\n",
                lr_label(o.lr_mults[0]).c_str(), bf16_val, h_unigram,
                learned ? "learned: well below what character frequencies alone give" : "DID NOT LEARN");

  // ---- curves.csv ---------------------------------------------------------------------
  {
    std::ofstream csv(o.out + "/curves.csv");
    csv << "recipe,lr_mult,lr,seed,step,train_loss,val_loss,sharpness\n";
    for (const auto& r : results) {
      const std::string head = all[r.recipe_index].name + "," + lr_label(o.lr_mults[static_cast<std::size_t>(r.lr_index)]) +
                               "," + fmt_num(r.lr, 6) + "," + std::to_string(r.seed) + ",";
      std::size_t e = 0;
      for (int step = 0; step <= static_cast<int>(r.train.size()); ++step) {
        std::string tl = step >= 1 ? fmt_num(r.train[static_cast<std::size_t>(step - 1)], 5) : std::string("");
        std::string vl, sh;
        while (e < r.evals.size() && r.evals[e].step < step) ++e;
        if (e < r.evals.size() && r.evals[e].step == step) {
          vl = fmt_num(r.evals[e].val, 5);
          if (!std::isnan(r.evals[e].sharp)) sh = fmt_num(r.evals[e].sharp, 4);
        }
        if (step == 0 && vl.empty()) continue;
        csv << head << step << "," << tl << "," << vl << "," << sh << "\n";
      }
    }
  }

  // ---- curves.svg: validation loss, smoothed training loss, sharpness ----------------
  {
    std::vector<svg_panel> panels;
    double lo = 1e9, sh_lo = 1e9, sh_hi = 0;
    for (const auto& r : results)
      for (const auto& e : r.evals) {
        if (std::isfinite(e.val)) lo = std::min(lo, e.val);
        if (std::isfinite(e.sharp) && e.sharp > 0) {
          sh_lo = std::min(sh_lo, e.sharp);
          sh_hi = std::max(sh_hi, e.sharp);
        }
      }
    if (sh_hi <= 0) sh_lo = 1, sh_hi = 10;
    for (int row = 0; row < 3; ++row)
      for (std::size_t li = 0; li < o.lr_mults.size(); ++li) {
        svg_panel P;
        static const char* const what[] = {"validation loss", "training loss (mean of 25 steps)",
                                           "last-token sharpness (eps 0.01)"};
        P.title = std::string(what[row]) + ", LR " + lr_label(o.lr_mults[li]) + " = " + fmt_num(tc.lr * o.lr_mults[li], 4);
        P.xlabel = "step";
        P.ylabel = row < 2 ? "nats / char" : "sharpness (log scale)";
        P.xmax = tc.steps;
        if (row < 2) {
          P.ymin = std::floor((lo - 0.1) * 10) / 10;
          P.ymax = std::ceil((h_unigram_valid + 0.4) * 10) / 10;
          P.hline = h_unigram;
          P.hline_label = "unigram entropy " + fmt_num(h_unigram, 3);
        } else {
          P.log_y = true;
          P.ymin = nice_125(sh_lo * 0.95, false);
          P.ymax = nice_125(sh_hi * 1.05, true);
        }
        for (std::size_t ci = 0; ci < chosen.size(); ++ci) {
          const recipe& rec = all[chosen[ci]];
          svg_series s;
          s.label = rec.name;
          s.color = series_color(rec);
          s.width = rec.name == "bf16" ? 2.5 : 1.4;
          if (rec.kind == recipe_kind::e8m && rec.rounding == pqt::rounding::toward_zero) s.dash = "5,3";
          if (rec.kind == recipe_kind::e8m && rec.rounding == pqt::rounding::stochastic) s.dash = "2,2";
          if (rec.kind == recipe_kind::diffq) s.dash = rec.noise_amp != 1.0 ? "8,3" : "8,3,2,3";
          if (rec.kind == recipe_kind::minifloat && rec.rounding == pqt::rounding::stochastic) s.dash = "2,2";
          const auto& runs = cells[ci][li].runs;
          bool any_diverged = false;
          for (const run_result* r : runs) any_diverged |= r->diverged;
          if (row != 1) {
            // Mean over the seeds still running at each evaluation (rows 0, 2).
            std::map<int, std::pair<double, int>> acc;
            for (const run_result* r : runs)
              for (const auto& e : r->evals) {
                const double v = row == 0 ? e.val : e.sharp;
                if (!(r->diverged && e.step >= r->diverged_at) && std::isfinite(v)) {
                  acc[e.step].first += v;
                  acc[e.step].second += 1;
                }
              }
            for (const auto& kv : acc) {
              s.x.push_back(kv.first);
              s.y.push_back(kv.second.first / kv.second.second);
            }
          } else {
            const int win = 25;
            for (int step = win; step <= tc.steps; step += 5) {
              double sum = 0;
              int cnt = 0;
              for (const run_result* r : runs) {
                if (static_cast<int>(r->train.size()) < step) continue;
                double m = 0;
                for (int k = step - win; k < step; ++k) m += r->train[static_cast<std::size_t>(k)];
                if (std::isfinite(m)) {
                  sum += m / win;
                  ++cnt;
                }
              }
              if (cnt == 0) break;
              s.x.push_back(step);
              s.y.push_back(sum / cnt);
            }
          }
          s.end_marker = any_diverged;
          P.series.push_back(s);
        }
        panels.push_back(P);
      }
    write_svg(o.out + "/curves.svg",
              "pqt precision sweep: char-level transformer on Debian's licence texts, mean of " +
                  std::to_string(o.seeds) + " seed" + (o.seeds > 1 ? "s" : ""),
              panels, static_cast<int>(o.lr_mults.size()));
  }
  std::printf("wrote %s/curves.csv, %s/summary.csv, %s/ptq.csv, %s/curves.svg\n", o.out.c_str(), o.out.c_str(),
              o.out.c_str(), o.out.c_str());

  if (o.check) {
    const int want = static_cast<int>(chosen.size() * o.lr_mults.size());
    bool ok = rows == want;
    if (!ok) std::fprintf(stderr, "check: %d table rows, expected %d\n", rows, want);
    if (!bf16_seen) {
      std::fprintf(stderr, "check: bf16 is not in the sweep\n");
      ok = false;
    } else if (!learned) {
      std::fprintf(stderr, "check: bf16 at %s LR did not learn (validation loss %.3f, unigram entropy %.3f)\n",
                   lr_label(o.lr_mults[0]).c_str(), bf16_val, h_unigram);
      ok = false;
    }
    std::fprintf(stderr, "check: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  return 0;
}
