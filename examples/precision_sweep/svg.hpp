#pragma once
// A small SVG line-plot writer: a grid of panels sharing one legend. No
// dependencies; the sweep writes its loss curves with it.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace sweep {

struct svg_series {
  std::string label;
  std::string color;
  double width = 1.5;
  std::string dash;                  ///< stroke-dasharray, empty for solid
  std::vector<double> x, y;          ///< NaN y values break the line
  bool end_marker = false;           ///< draw an x at the last point (diverged)
};

struct svg_panel {
  std::string title, xlabel, ylabel;
  double ymin = 0, ymax = 1;         ///< y range; values outside are clipped
  double xmax = 1;
  std::vector<svg_series> series;
  double hline = std::nan("");       ///< dashed reference line
  std::string hline_label;
  bool log_y = false;                ///< logarithmic y axis (ymin > 0)
};

/// Tick positions: 1-2-5 steps for a linear axis, 1-2-5 decades for a log one.
inline std::vector<double> svg_ticks(double lo, double hi, bool log_axis, int target = 5) {
  std::vector<double> t;
  if (log_axis) {
    for (double dec = std::pow(10.0, std::floor(std::log10(lo))); dec <= hi; dec *= 10)
      for (double m : {1.0, 2.0, 5.0})
        if (m * dec >= lo * (1 - 1e-9) && m * dec <= hi * (1 + 1e-9)) t.push_back(m * dec);
    return t;
  }
  const double raw = (hi - lo) / target, mag = std::pow(10.0, std::floor(std::log10(raw))), norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) t.push_back(std::fabs(v) < 1e-12 ? 0 : v);
  return t;
}

/// The largest 1-2-5 value <= v (down) or the smallest >= v (up), v > 0.
inline double nice_125(double v, bool up) {
  const double dec = std::pow(10.0, std::floor(std::log10(v)));
  const double steps[] = {1, 2, 5, 10};
  if (up) {
    for (double m : steps)
      if (m * dec >= v * (1 - 1e-12)) return m * dec;
    return 10 * dec;
  }
  double best = dec;
  for (double m : steps)
    if (m * dec <= v * (1 + 1e-12)) best = m * dec;
  return best;
}

/// Digits after the point that show a tick value exactly enough.
inline int tick_precision(const std::vector<double>& t) {
  for (int p = 0; p < 4; ++p) {
    bool ok = true;
    for (double v : t) ok &= std::fabs(v * std::pow(10.0, p) - std::round(v * std::pow(10.0, p))) < 1e-6;
    if (ok) return p;
  }
  return 4;
}

inline std::string svg_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

inline std::string fmt_num(double v, int prec = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

/// Panels laid out `cols` per row; the legend (labels of the first panel's
/// series) on the right.
inline void write_svg(const std::string& path, const std::string& title, const std::vector<svg_panel>& panels,
                      int cols) {
  const double pw = 420, ph = 300, ml = 58, mr = 14, mt = 34, mb = 44, legend_w = 190;
  const int rows = static_cast<int>((panels.size() + static_cast<std::size_t>(cols) - 1) / static_cast<std::size_t>(cols));
  const double W = cols * (pw + ml + mr) + legend_w, H = 40 + rows * (ph + mt + mb);
  std::ofstream out(path);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
      << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << W / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">" << svg_escape(title)
      << "</text>\n";
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const auto& P = panels[p];
    const double ox = static_cast<double>(p % static_cast<std::size_t>(cols)) * (pw + ml + mr) + ml;
    const double oy = 40 + static_cast<double>(p / static_cast<std::size_t>(cols)) * (ph + mt + mb) + mt;
    auto X = [&](double x) { return ox + pw * x / P.xmax; };
    auto frac = [&](double y) {
      return P.log_y ? (std::log10(y) - std::log10(P.ymin)) / (std::log10(P.ymax) - std::log10(P.ymin))
                     : (y - P.ymin) / (P.ymax - P.ymin);
    };
    auto Y = [&](double y) { return oy + ph * (1 - frac(y)); };
    out << "<text x=\"" << ox + pw / 2 << "\" y=\"" << oy - 10 << "\" text-anchor=\"middle\" font-size=\"13\">"
        << svg_escape(P.title) << "</text>\n";
    out << "<rect x=\"" << ox << "\" y=\"" << oy << "\" width=\"" << pw << "\" height=\"" << ph
        << "\" fill=\"none\" stroke=\"#444\"/>\n";
    const auto yt = svg_ticks(P.ymin, P.ymax, P.log_y), xt = svg_ticks(0, P.xmax, false);
    for (double yv : yt) {
      // A log axis labels each tick with its own digits (0.5, 1, 20).
      const int yp = P.log_y ? tick_precision({yv}) : tick_precision(yt);
      out << "<line x1=\"" << ox << "\" x2=\"" << ox + pw << "\" y1=\"" << Y(yv) << "\" y2=\"" << Y(yv)
          << "\" stroke=\"#eee\"/>\n"
          << "<text x=\"" << ox - 6 << "\" y=\"" << Y(yv) + 4 << "\" text-anchor=\"end\">" << fmt_num(yv, yp) << "</text>\n";
    }
    for (double xv : xt)
      out << "<text x=\"" << X(xv) << "\" y=\"" << oy + ph + 16 << "\" text-anchor=\"middle\">" << fmt_num(xv, 0)
          << "</text>\n";
    out << "<text x=\"" << ox + pw / 2 << "\" y=\"" << oy + ph + 34 << "\" text-anchor=\"middle\">"
        << svg_escape(P.xlabel) << "</text>\n"
        << "<text transform=\"translate(" << ox - 44 << "," << oy + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
        << svg_escape(P.ylabel) << "</text>\n";
    if (!std::isnan(P.hline) && P.hline > P.ymin && P.hline < P.ymax) {
      out << "<line x1=\"" << ox << "\" x2=\"" << ox + pw << "\" y1=\"" << Y(P.hline) << "\" y2=\"" << Y(P.hline)
          << "\" stroke=\"#888\" stroke-dasharray=\"6,4\"/>\n"
          << "<text x=\"" << ox + pw - 4 << "\" y=\"" << Y(P.hline) - 4 << "\" text-anchor=\"end\" fill=\"#666\">"
          << svg_escape(P.hline_label) << "</text>\n";
    }
    out << "<clipPath id=\"c" << p << "\"><rect x=\"" << ox << "\" y=\"" << oy << "\" width=\"" << pw
        << "\" height=\"" << ph << "\"/></clipPath>\n<g clip-path=\"url(#c" << p << ")\">\n";
    for (const auto& s : P.series) {
      std::string d;
      bool pen = false;
      double lx = 0, ly = 0;
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!std::isfinite(s.y[i])) {
          pen = false;
          continue;
        }
        // Clamped to the frame, so a curve that leaves it runs along the edge
        // and its end marker stays visible.
        const double yc = std::min(std::max(s.y[i], P.ymin), P.ymax);
        lx = X(s.x[i]);
        ly = Y(yc);
        d += (pen ? " L" : " M") + fmt_num(lx, 1) + "," + fmt_num(ly, 1);
        pen = true;
      }
      if (d.empty()) continue;
      out << "<path d=\"" << d << "\" fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"" << s.width << "\"";
      if (!s.dash.empty()) out << " stroke-dasharray=\"" << s.dash << "\"";
      out << " stroke-linejoin=\"round\"/>\n";
      if (s.end_marker)
        out << "<path d=\"M" << fmt_num(lx - 5, 1) << "," << fmt_num(ly - 5, 1) << " l10,10 m0,-10 l-10,10\" stroke=\""
            << s.color << "\" stroke-width=\"2\"/>\n";
    }
    out << "</g>\n";
  }
  if (!panels.empty()) {
    const double lx = cols * (pw + ml + mr) + 10;
    double ly = 40 + mt;
    for (const auto& s : panels[0].series) {
      out << "<line x1=\"" << lx << "\" x2=\"" << lx + 28 << "\" y1=\"" << ly << "\" y2=\"" << ly << "\" stroke=\""
          << s.color << "\" stroke-width=\"" << std::max(2.0, s.width) << "\"";
      if (!s.dash.empty()) out << " stroke-dasharray=\"" << s.dash << "\"";
      out << "/>\n<text x=\"" << lx + 34 << "\" y=\"" << ly + 4 << "\">" << svg_escape(s.label) << "</text>\n";
      ly += 17;
    }
    out << "<text x=\"" << lx << "\" y=\"" << ly + 10 << "\" fill=\"#666\">x: diverged (run stopped)</text>\n";
  }
  out << "</svg>\n";
}

}  // namespace sweep
