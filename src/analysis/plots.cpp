// gnuplot scripts and data files for dvae's figures, and running gnuplot.
#include "analysis/plots.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "analysis/png.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "dvae/version.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

/// Quotes text for the POSIX shell.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// Quotes a file name as a gnuplot single-quoted string ('' stands for ').
std::string gp_file(const std::string& name) {
  std::string out = "'";
  for (char c : name) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// A number as gnuplot reads it back.
std::string gp_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0 && fs::is_regular_file(path); }

std::string last_lines(const std::string& text, size_t count) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r^") != std::string::npos) lines.push_back(line);
  }
  std::string out;
  for (size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i) {
    out += (out.empty() ? "" : " | ") + lines[i];
  }
  return out;
}

/// Panel order: the paper's MLP (left), then CNN, then any other architecture by name.
int arch_rank(const std::string& arch) {
  if (arch == "mlp") return 0;
  if (arch == "cnn") return 1;
  return 2;
}

/// gnuplot line style of the i-th model (in order of first appearance), the same in every panel.
std::string model_style(size_t i) {
  static const char* kStyles[] = {"lc rgb '#1f77b4' pt 7",  "lc rgb '#d62728' pt 5",  "lc rgb '#2ca02c' pt 9",
                                  "lc rgb '#9467bd' pt 11", "lc rgb '#ff7f0e' pt 13", "lc rgb '#8c564b' pt 4",
                                  "lc rgb '#e377c2' pt 6",  "lc rgb '#17becf' pt 8"};
  return kStyles[i % (sizeof(kStyles) / sizeof(kStyles[0]))];
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

}  // namespace

std::string gnuplot_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string find_gnuplot(const PlotOptions& options) {
  if (!options.gnuplot.empty()) {
    DVAE_CHECK(is_executable(options.gnuplot), "gnuplot: ", options.gnuplot,
               " is not an executable file, expected the gnuplot program (apt-get install gnuplot-nox)");
    return options.gnuplot;
  }
  for (const char* candidate : {"/usr/bin/gnuplot", "/usr/local/bin/gnuplot"}) {
    if (is_executable(candidate)) return candidate;
  }
  if (FILE* pipe = ::popen("command -v gnuplot 2>/dev/null", "r")) {
    char buf[4096] = {0};
    const bool got = std::fgets(buf, sizeof(buf), pipe) != nullptr;
    ::pclose(pipe);
    std::string path = got ? std::string(buf) : "";
    while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
    if (!path.empty() && is_executable(path)) return path;
  }
  throw Error(
      "gnuplot: not found in /usr/bin, /usr/local/bin or PATH, expected the gnuplot program to draw plots "
      "(install it: apt-get install gnuplot-nox)");
}

namespace {

// gnuplot's cairo terminals ignore failed writes: on a full disk gnuplot exits 0
// and leaves a truncated file. A PNG ends with its 12-byte IEND chunk, an SVG with
// </svg>; anything else never replaces a figure (whose SHA-256 the study records).
bool whole_png(const std::string& path) {
  static const std::string kIend("\0\0\0\0IEND\xae\x42\x60\x82", 12);
  const std::string bytes = read_file(path);
  return bytes.size() > 8 + kIend.size() && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 &&
         bytes.compare(bytes.size() - kIend.size(), kIend.size(), kIend) == 0;
}

bool whole_svg(const std::string& path) {
  const std::string text = read_file(path);
  const size_t end = text.find_last_not_of(" \t\r\n");
  return end != std::string::npos && end + 1 >= 6 && text.compare(end + 1 - 6, 6, "</svg>") == 0;
}

// Moves gnuplot's output onto target through dvae's atomic writer (fsync, then rename).
void install_plot(const std::string& produced, const std::string& target, bool (*whole)(const std::string&),
                  const std::string& script_path) {
  write_atomic_with(target, [&](const std::string& tmp) {
    fs::rename(produced, tmp);
    DVAE_CHECK(whole(tmp), target, ": gnuplot wrote an incomplete file (is the disk full?), expected a whole ",
               fs::path(target).extension().string().substr(1), "; redraw with ", script_path);
  });
}

}  // namespace

PlotFiles run_gnuplot(const std::string& body, const std::string& stem, int64_t width, int64_t height,
                      const PlotOptions& options, bool svg) {
  const std::string gnuplot = find_gnuplot(options);
  const fs::path stem_path(stem);
  const fs::path dir = stem_path.has_parent_path() ? stem_path.parent_path() : fs::path(".");
  const std::string base = stem_path.filename().string();
  fs::create_directories(dir);
  std::ostringstream script;
  script << "# " << base << ".gp: generated by dvae " << kVersion << "; redraw with: gnuplot " << base << ".gp\n"
         << "if (!exists(\"png_out\")) png_out = " << gp_file(base + ".png") << "\n"
         << "if (!exists(\"svg_out\")) svg_out = " << gp_file(base + ".svg") << "\n"
         << "set terminal pngcairo size " << width << "," << height << " font " << gnuplot_quote(options.font)
         << " noenhanced background rgb 'white'\n"
         << "set output png_out\n"
         << "reset\n"
         << body << "\nunset output\n";
  if (svg) {
    script << "set terminal svg size " << width << "," << height << " font " << gnuplot_quote(options.font)
           << " noenhanced background rgb 'white'\n"
           << "set output svg_out\n"
           << "reset\n"
           << body << "\nunset output\n";
  }
  const std::string script_path = stem + ".gp";
  write_file_atomic(script_path, script.str());

  const std::string png_tmp = base + ".png.tmp";
  const std::string svg_tmp = base + ".svg.tmp";
  const std::string log = base + ".gp.log";
  const std::string command = "cd " + shell_quote(dir.string()) + " && " + shell_quote(gnuplot) + " -e " +
                              shell_quote("png_out=" + gp_file(png_tmp) + "; svg_out=" + gp_file(svg_tmp)) + " " +
                              shell_quote(base + ".gp") + " > " + shell_quote(log) + " 2>&1";
  const int rc = std::system(command.c_str());
  const fs::path png_tmp_path = dir / png_tmp;
  const fs::path svg_tmp_path = dir / svg_tmp;
  const fs::path log_path = dir / log;
  const bool ok = rc == 0 && fs::exists(png_tmp_path) && fs::file_size(png_tmp_path) > 0 &&
                  (!svg || (fs::exists(svg_tmp_path) && fs::file_size(svg_tmp_path) > 0));
  std::error_code ignored;
  if (!ok) {
    std::string message = fs::exists(log_path) ? last_lines(read_file(log_path.string()), 3) : "";
    fs::remove(png_tmp_path, ignored);
    fs::remove(svg_tmp_path, ignored);
    throw Error(script_path + ": gnuplot failed (exit status " + std::to_string(rc) + "): " +
                (message.empty() ? std::string(rc == 0 ? "it wrote nothing (is the disk full?)" : "no message") : message) +
                ", expected " + base + ".png; see " + log_path.string());
  }
  PlotFiles files;
  files.script = script_path;
  files.png = stem + ".png";
  try {
    install_plot(png_tmp_path.string(), files.png, whole_png, script_path);
    if (svg) {
      files.svg = stem + ".svg";
      install_plot(svg_tmp_path.string(), files.svg, whole_svg, script_path);
    }
  } catch (...) {
    fs::remove(png_tmp_path, ignored);
    fs::remove(svg_tmp_path, ignored);
    throw;
  }
  fs::remove(log_path, ignored);
  return files;
}

PlotFiles render_labelled_image(const std::string& image_png, const ImageLabels& labels, const std::string& out_png,
                                const PlotOptions& options) {
  const torch::Tensor pixels = read_png(image_png);
  const int64_t h = pixels.size(0);
  const int64_t w = pixels.size(1);
  // Margins in pixels, from the longest label at about 0.62 em per character.
  const double char_px = 0.62 * 15.0;
  size_t longest = 0;
  for (const auto& [row, text] : labels.row_labels) longest = std::max(longest, text.size());
  size_t title_lines = labels.title.empty() ? 0 : 1;
  size_t title_chars = 0;
  size_t line_chars = 0;
  for (char c : labels.title) {
    title_lines += c == '\n' ? 1 : 0;
    line_chars = c == '\n' ? 0 : line_chars + 1;
    title_chars = std::max(title_chars, line_chars);
  }
  int64_t left = 16 + static_cast<int64_t>(std::ceil(char_px * static_cast<double>(longest)));
  int64_t right = 16;
  // Widen both margins equally when the title is wider than the image and its labels.
  const int64_t title_px = 32 + static_cast<int64_t>(std::ceil(0.56 * 15.0 * static_cast<double>(title_chars)));
  if (title_px > left + w + right) {
    const int64_t extra = title_px - (left + w + right);
    left += extra / 2;
    right += extra - extra / 2;
  }
  const int64_t top = labels.title.empty() ? 12 : 22 + 20 * static_cast<int64_t>(title_lines);
  const int64_t bottom = 12 + (labels.col_labels.empty() ? 0 : 24) + (labels.xlabel.empty() ? 0 : 24);
  const int64_t width = left + w + right;
  const int64_t height = top + h + bottom;

  const fs::path out_path(out_png);
  const fs::path dir = out_path.has_parent_path() ? out_path.parent_path() : fs::path(".");
  fs::create_directories(dir);
  const fs::path image_path(image_png);
  const std::string image_ref = fs::equivalent(image_path.has_parent_path() ? image_path.parent_path() : ".", dir)
                                    ? image_path.filename().string()
                                    : fs::absolute(image_path).string();
  std::ostringstream b;
  b << "unset key\nunset border\nunset colorbox\n"
    << "set lmargin at screen " << gp_number(static_cast<double>(left) / width) << "\n"
    << "set rmargin at screen " << gp_number(static_cast<double>(left + w) / width) << "\n"
    << "set bmargin at screen " << gp_number(static_cast<double>(bottom) / height) << "\n"
    << "set tmargin at screen " << gp_number(static_cast<double>(bottom + h) / height) << "\n"
    << "set xrange [-0.5:" << w - 0.5 << "]\nset yrange [-0.5:" << h - 0.5 << "]\n";
  if (!labels.title.empty()) b << "set title " << gnuplot_quote(labels.title) << "\n";
  b << "set ytics (";
  for (size_t i = 0; i < labels.row_labels.size(); ++i) {
    b << (i ? ", " : "") << gnuplot_quote(labels.row_labels[i].second) << " " << h - 1 - labels.row_labels[i].first;
  }
  b << ") scale 0 nomirror\n";
  if (labels.row_labels.empty()) b << "unset ytics\n";
  b << "set xtics (";
  for (size_t i = 0; i < labels.col_labels.size(); ++i) {
    b << (i ? ", " : "") << gnuplot_quote(labels.col_labels[i].second) << " " << labels.col_labels[i].first;
  }
  b << ") scale 0 nomirror\n";
  if (labels.col_labels.empty()) b << "unset xtics\n";
  if (!labels.xlabel.empty()) b << "set xlabel " << gnuplot_quote(labels.xlabel) << "\n";
  for (size_t i = 0; i < labels.captions.size(); ++i) {
    const auto& c = labels.captions[i];
    b << "set label " << i + 1 << " " << gnuplot_quote(c.text) << " at " << c.x << "," << h - 1 - c.y
      << " center front font \",9\" textcolor rgb '#b00000'\n";
  }
  // Drawn as one bitmap at 1:1 ("pixels" would draw antialiased boxes that lighten dark images);
  // grey files are read as r = g = b, so rgbimage keeps grey levels exact in both cases.
  b << "plot " << gp_file(image_ref) << " binary filetype=png with rgbimage notitle\n";
  const std::string stem = (dir / out_path.stem()).string();
  PlotFiles files = run_gnuplot(b.str(), stem, width, height, options, false);
  if (files.png != out_png) {
    fs::rename(files.png, out_png);
    files.png = out_png;
  }
  return files;
}

PlotFiles plot_accuracy_vs_labels(const std::vector<ResultRow>& rows, const std::string& out_dir,
                                  const PlotOptions& options) {
  DVAE_CHECK(!rows.empty(), "plot: no results to plot, expected at least one results row");
  const Summary summary = summarise(rows);
  std::map<std::string, size_t> model_index;  // one style per model in every panel
  for (size_t i = 0; i < summary.models.size(); ++i) model_index.emplace(summary.models[i], i);
  std::map<std::string, double> beta_of;  // the first row's beta per model
  std::set<std::string> datasets;
  for (const auto& r : rows) {
    beta_of.emplace(r.model, r.beta);
    datasets.insert(r.dataset);
  }
  auto panel_of = [&](const CellSummary& c) {
    return datasets.size() > 1 ? c.dataset + " " + upper(c.arch) : upper(c.arch);
  };
  // Figure order: panels mlp before cnn (as in the paper), models by first appearance, n ascending, "all" last.
  std::vector<const CellSummary*> cells;
  for (const auto& c : summary.cells) cells.push_back(&c);
  auto n_order = [](int64_t n) { return n == -1 ? std::numeric_limits<int64_t>::max() : n; };
  std::stable_sort(cells.begin(), cells.end(), [&](const CellSummary* a, const CellSummary* b) {
    return std::make_tuple(a->dataset, arch_rank(a->arch), a->arch, model_index[a->model], n_order(a->n)) <
           std::make_tuple(b->dataset, arch_rank(b->arch), b->arch, model_index[b->model], n_order(b->n));
  });
  fs::create_directories(out_dir);
  const std::string stem = (fs::path(out_dir) / "figure4").string();

  std::ostringstream csv;
  csv << "dataset,arch,model,beta,n,x,mean_accuracy,ci_low,ci_high,std_accuracy,unit,replicates,rows\n";
  std::vector<std::string> panels;
  std::set<int64_t> ns;
  // One gnuplot data block per (panel, model), in figure order.
  std::vector<std::pair<std::string, std::string>> blocks;
  std::set<std::string> units;
  std::ostringstream dat;
  dat << "# x (labels per class; " << kAllLabelsX << " = all) mean_percent ci_low_percent ci_high_percent rows\n";
  double lowest = 100.0;
  for (const CellSummary* c : cells) {
    const std::string panel = panel_of(*c);
    lowest = std::min(lowest, 100.0 * c->accuracy_ci_low);
    const double x = c->n == -1 ? kAllLabelsX : static_cast<double>(c->n);
    csv << c->dataset << "," << c->arch << "," << c->model << "," << gp_number(beta_of[c->model]) << "," << c->n
        << "," << gp_number(x) << "," << gp_number(c->accuracy_mean) << "," << gp_number(c->accuracy_ci_low) << ","
        << gp_number(c->accuracy_ci_high) << "," << gp_number(c->accuracy_std) << "," << c->unit << ","
        << c->replicates << "," << c->trials << "\n";
    units.insert(c->unit);
    if (std::find(panels.begin(), panels.end(), panel) == panels.end()) panels.push_back(panel);
    ns.insert(c->n);
    const bool new_block = blocks.empty() || blocks.back().first != panel || blocks.back().second != c->model;
    if (new_block) {
      if (!blocks.empty()) dat << "\n\n";
      blocks.push_back({panel, c->model});
      dat << "# block " << blocks.size() - 1 << ": " << panel << " " << c->model << "\n";
    }
    dat << gp_number(x) << " " << gp_number(100.0 * c->accuracy_mean) << " " << gp_number(100.0 * c->accuracy_ci_low)
        << " " << gp_number(100.0 * c->accuracy_ci_high) << " " << c->trials << "\n";
  }
  write_file_atomic(stem + ".csv", csv.str());
  write_file_atomic(stem + ".dat", dat.str());
  std::string over;
  for (const auto& u : units) over += (over.empty() ? "" : " or ") + u;

  std::ostringstream tics;
  tics << "set xtics (";
  bool first = true;
  for (int64_t n : ns) {
    tics << (first ? "" : ", ") << (n == -1 ? std::string("\"all\" ") + gp_number(kAllLabelsX)
                                            : "\"" + std::to_string(n) + "\" " + std::to_string(n));
    first = false;
  }
  tics << ") nomirror\n";
  const int64_t panel_count = static_cast<int64_t>(panels.size());
  std::ostringstream b;
  b << "set multiplot layout 1," << panel_count << " title "
    << gnuplot_quote("Test accuracy against labelled training images per class (mean and 95% interval over " +
                     over + ")")
    << "\n"
    << "set logscale x\nset xrange [0.7:" << gp_number(kAllLabelsX * 1.6) << "]\n"
    << tics.str() << "set ytics nomirror\nset grid xtics ytics lc rgb '#dddddd'\n"
    << "set xlabel \"labelled images per class (log scale)\"\nset ylabel \"test accuracy (%)\"\n"
    << "set yrange [" << gp_number(std::max(0.0, 10.0 * std::floor(lowest / 10.0 - 0.5))) << ":100]\n"
    << "set key top left box opaque\nset bars 2\n";
  for (const auto& panel : panels) {
    b << "set title " << gnuplot_quote(panel + " architecture") << "\n" << "plot ";
    bool first_line = true;
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (blocks[i].first != panel) continue;
      b << (first_line ? "" : ", \\\n     ") << gp_file("figure4.dat") << " index " << i
        << " using 1:2:3:4 with yerrorlines lw 2 ps 1.2 " << model_style(model_index[blocks[i].second])
        << " title " << gnuplot_quote(blocks[i].second);
      first_line = false;
    }
    b << "\n";
  }
  b << "unset multiplot\n";
  PlotFiles files = run_gnuplot(b.str(), stem, 640 * panel_count, 520, options, options.svg);
  files.csv = stem + ".csv";
  return files;
}

PlotFiles plot_latent_kl(const std::vector<double>& kl, const std::string& title, const std::string& stem,
                         const PlotOptions& options, double collapsed_kl) {
  DVAE_CHECK(!kl.empty(), "plot: ", stem, ": no per-latent KL values, expected one per latent");
  const std::string base = fs::path(stem).filename().string();
  std::ostringstream csv;
  std::ostringstream dat;
  csv << "latent,kl_nats,collapsed\n";
  dat << "# latent kl_nats collapsed(1/0)\n";
  int64_t collapsed = 0;
  for (size_t d = 0; d < kl.size(); ++d) {
    const bool c = kl[d] < collapsed_kl;
    collapsed += c ? 1 : 0;
    csv << d << "," << gp_number(kl[d]) << "," << (c ? 1 : 0) << "\n";
    dat << d << " " << gp_number(kl[d]) << " " << (c ? 1 : 0) << "\n";
  }
  fs::create_directories(fs::path(stem).has_parent_path() ? fs::path(stem).parent_path() : fs::path("."));
  write_file_atomic(stem + ".csv", csv.str());
  write_file_atomic(stem + ".dat", dat.str());
  std::ostringstream b;
  b << "set title " << gnuplot_quote(title + "\n" + std::to_string(collapsed) + " of " + std::to_string(kl.size()) +
                                     " latents collapsed (KL < " + gp_number(collapsed_kl) + " nats, grey)")
    << "\n"
    << "unset key\nset style fill solid 0.85 border rgb '#333333'\nset boxwidth 0.7\n"
    << "set xrange [-0.7:" << gp_number(static_cast<double>(kl.size()) - 0.3) << "]\nset yrange [0:*]\n"
    << "set xlabel \"latent unit\"\nset ylabel \"KL(q(z_d|x) || N(0,1)) on the test set (nats)\"\n"
    << "set grid ytics lc rgb '#dddddd'\nset xtics nomirror\nset ytics nomirror\n"
    << "plot " << gp_file(base + ".dat")
    << " using 1:2:($3 > 0 ? 0x999999 : 0x1f77b4):xtic(sprintf(\"z%d\", $1)) with boxes lc rgb variable, \\\n"
    << "     '' using 1:2:(sprintf(\"%.2f\", $2)) with labels offset 0,0.8 font \",9\"\n";
  const int64_t width = std::max<int64_t>(640, 60 * static_cast<int64_t>(kl.size()) + 200);
  PlotFiles files = run_gnuplot(b.str(), stem, width, 440, options, options.svg);
  files.csv = stem + ".csv";
  return files;
}

PlotFiles plot_forest(const std::vector<ForestLine>& lines, const std::string& title, const std::string& xlabel,
                      const std::string& stem, const PlotOptions& options, double margin) {
  DVAE_CHECK(!lines.empty(), "plot: ", stem, ": no intervals, expected at least one forest-plot line");
  const std::string base = fs::path(stem).filename().string();
  std::ostringstream csv, dat, tics;
  csv << "label,estimate,low,high\n";
  dat << "# y estimate low high\n";
  double lo = 0.0, hi = 0.0;
  tics << "set ytics (";
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& l = lines[i];
    const double y = static_cast<double>(lines.size() - i);
    csv << "\"" << l.label << "\"," << gp_number(l.estimate) << "," << gp_number(l.low) << "," << gp_number(l.high)
        << "\n";
    dat << gp_number(y) << " " << gp_number(l.estimate) << " " << gp_number(l.low) << " " << gp_number(l.high) << "\n";
    tics << (i ? ", " : "") << gnuplot_quote(l.label) << " " << gp_number(y);
    lo = std::min({lo, l.low, l.estimate});
    hi = std::max({hi, l.high, l.estimate});
  }
  tics << ")\n";
  if (margin > 0) {
    lo = std::min(lo, -margin);
    hi = std::max(hi, margin);
  }
  const double pad = std::max(0.5, 0.08 * (hi - lo));
  fs::create_directories(fs::path(stem).has_parent_path() ? fs::path(stem).parent_path() : fs::path("."));
  write_file_atomic(stem + ".csv", csv.str());
  write_file_atomic(stem + ".dat", dat.str());
  std::ostringstream b;
  b << "set title " << gnuplot_quote(title) << "\nunset key\n" << tics.str() << "set xlabel " << gnuplot_quote(xlabel)
    << "\nset yrange [0.3:" << gp_number(static_cast<double>(lines.size()) + 0.7) << "]\n"
    << "set xrange [" << gp_number(lo - pad) << ":" << gp_number(hi + pad) << "]\n"
    << "set grid xtics lc rgb '#dddddd'\nset arrow from 0, graph 0 to 0, graph 1 nohead lc rgb '#888888' dt 2\n";
  if (margin > 0) {
    for (double m : {-margin, margin}) {
      b << "set arrow from " << gp_number(m) << ", graph 0 to " << gp_number(m)
        << ", graph 1 nohead lc rgb '#d62728' dt 3\n";
    }
  }
  b
    << "plot " << gp_file(base + ".dat") << " using 2:1:3:4 with xerrorbars pt 7 ps 1.2 lc rgb '#1f77b4'\n";
  const int64_t height = 120 + 28 * static_cast<int64_t>(lines.size());
  PlotFiles files = run_gnuplot(b.str(), stem, 900, height, options, false);
  files.csv = stem + ".csv";
  return files;
}

PlotFiles plot_confusion(const std::vector<std::vector<int64_t>>& confusion, const std::string& title,
                         const std::string& stem, const PlotOptions& options) {
  const size_t c = confusion.size();
  DVAE_CHECK(c >= 1, "plot: ", stem, ": empty confusion matrix, expected C x C counts");
  for (const auto& row : confusion) {
    DVAE_CHECK(row.size() == c, "plot: ", stem, ": confusion row of ", row.size(), " counts, expected ", c);
  }
  const std::string base = fs::path(stem).filename().string();
  std::ostringstream csv;
  std::ostringstream dat;
  csv << "true\\predicted";
  for (size_t j = 0; j < c; ++j) csv << "," << j;
  csv << "\n";
  dat << "# predicted true row_fraction count\n";
  for (size_t i = 0; i < c; ++i) {
    int64_t total = 0;
    for (int64_t v : confusion[i]) total += v;
    csv << i;
    for (size_t j = 0; j < c; ++j) {
      csv << "," << confusion[i][j];
      const double frac = total > 0 ? static_cast<double>(confusion[i][j]) / static_cast<double>(total) : 0.0;
      dat << j << " " << i << " " << gp_number(frac) << " " << confusion[i][j] << "\n";
    }
    csv << "\n";
    dat << "\n";
  }
  fs::create_directories(fs::path(stem).has_parent_path() ? fs::path(stem).parent_path() : fs::path("."));
  write_file_atomic(stem + ".csv", csv.str());
  write_file_atomic(stem + ".dat", dat.str());
  const double hi = static_cast<double>(c) - 0.5;
  std::ostringstream b;
  b << "set title " << gnuplot_quote(title) << "\nunset key\n"
    << "set xrange [-0.5:" << gp_number(hi) << "]\nset yrange [" << gp_number(hi) << ":-0.5]\n"
    << "set xtics 1 nomirror\nset ytics 1 nomirror\nset size ratio -1\n"
    << "set xlabel \"predicted class\"\nset ylabel \"true class\"\n"
    << "set cbrange [0:1]\nset cblabel \"fraction of the true class\"\n"
    << "set palette defined (0 '#ffffff', 0.5 '#6baed6', 1 '#08306b')\n"
    << "plot " << gp_file(base + ".dat") << " using 1:2:3 with image, \\\n"
    << "     '' using 1:2:($3 > 0.5 ? sprintf(\"%d\", $4) : \"\") with labels font \",9\" tc rgb 'white', \\\n"
    << "     '' using 1:2:($3 <= 0.5 && $4 > 0 ? sprintf(\"%d\", $4) : \"\") with labels font \",9\" tc rgb 'black'\n";
  PlotFiles files = run_gnuplot(b.str(), stem, 640, 600, options, options.svg);
  files.csv = stem + ".csv";
  return files;
}

PlotFiles plot_training_curves(const std::vector<EpochRecord>& log, const std::string& title,
                               const std::string& stem, const PlotOptions& options) {
  DVAE_CHECK(!log.empty(), "plot: ", stem, ": empty training log, expected at least one epoch");
  const std::string base = fs::path(stem).filename().string();
  std::ostringstream csv;
  std::ostringstream dat;
  csv << "epoch,train_recon,train_kl,test_recon,test_kl,test_elbo,beta\n";
  dat << "# epoch train_recon train_kl test_recon test_kl test_elbo\n";
  for (const auto& e : log) {
    csv << e.epoch << "," << gp_number(e.train_recon) << "," << gp_number(e.train_kl) << ","
        << gp_number(e.test_recon) << "," << gp_number(e.test_kl) << "," << gp_number(e.test_elbo) << ","
        << gp_number(e.beta) << "\n";
    dat << e.epoch << " " << gp_number(e.train_recon) << " " << gp_number(e.train_kl) << " "
        << gp_number(e.test_recon) << " " << gp_number(e.test_kl) << " " << gp_number(e.test_elbo) << "\n";
  }
  fs::create_directories(fs::path(stem).has_parent_path() ? fs::path(stem).parent_path() : fs::path("."));
  write_file_atomic(stem + ".csv", csv.str());
  write_file_atomic(stem + ".dat", dat.str());
  const std::string d = gp_file(base + ".dat");
  const std::string style = log.size() > 40 ? "with lines lw 2" : "with linespoints lw 2 pt 7 ps 0.6";
  std::ostringstream b;
  b << "set multiplot layout 1,3 title " << gnuplot_quote(title) << "\n"
    << "set xlabel \"epoch\"\nset grid lc rgb '#dddddd'\nset key top right\nset ytics nomirror\n"
    << (log.size() <= 20 ? "set xtics 1 nomirror\n" : "set xtics nomirror\n")
    << "set title \"reconstruction loss\"\nset ylabel \"nats per image\"\n"
    << "plot " << d << " using 1:2 " << style << " lc rgb '#1f77b4' title \"train\", " << d << " using 1:4 "
    << style << " lc rgb '#d62728' title \"test\"\n"
    << "set title \"KL(q(z|x) || p(z))\"\nset ylabel \"nats per image\"\nset key bottom right\n"
    << "plot " << d << " using 1:3 " << style << " lc rgb '#1f77b4' title \"train\", " << d << " using 1:5 "
    << style << " lc rgb '#d62728' title \"test\"\n"
    << "set title \"test ELBO (beta = 1)\"\nset ylabel \"nats per image (higher is better)\"\nset key bottom right\n"
    << "plot " << d << " using 1:6 " << style << " lc rgb '#2ca02c' title \"test ELBO\"\n"
    << "unset multiplot\n";
  PlotFiles files = run_gnuplot(b.str(), stem, 1500, 460, options, options.svg);
  files.csv = stem + ".csv";
  return files;
}

}  // namespace dvae
