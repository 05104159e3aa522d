// Scatter panels through gnuplot's multiplot.
#include "analysis/scatter_plot.h"

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

std::string scatter_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

}  // namespace

PlotFiles plot_scatter_panels(const std::vector<ScatterPanel>& panels, const std::string& title,
                              const std::string& xlabel, const std::string& ylabel, const std::string& stem,
                              const PlotOptions& options) {
  DVAE_CHECK(!panels.empty(), "plot: ", stem, ": no panels, expected at least one");
  const std::string base = fs::path(stem).filename().string();
  std::ostringstream csv, dat;
  csv << "panel,x,y\n";
  for (size_t p = 0; p < panels.size(); ++p) {
    DVAE_CHECK(panels[p].x.size() == panels[p].y.size(), "plot: ", stem, ": panel ", p, " has ", panels[p].x.size(),
               " x and ", panels[p].y.size(), " y values, expected as many");
    dat << "# panel " << p << "\n";
    for (size_t i = 0; i < panels[p].x.size(); ++i) {
      csv << p << "," << scatter_number(panels[p].x[i]) << "," << scatter_number(panels[p].y[i]) << "\n";
      dat << scatter_number(panels[p].x[i]) << " " << scatter_number(panels[p].y[i]) << "\n";
    }
    if (panels[p].x.empty()) dat << "NaN NaN\n";  // gnuplot needs a row in every block
    dat << "\n\n";
  }
  fs::create_directories(fs::path(stem).has_parent_path() ? fs::path(stem).parent_path() : fs::path("."));
  write_file_atomic(stem + ".csv", csv.str());
  write_file_atomic(stem + ".dat", dat.str());
  std::ostringstream b;
  b << "set multiplot layout 1," << panels.size() << " title " << gnuplot_quote(title) << "\n"
    << "unset key\nset grid lc rgb '#dddddd'\nset xtics nomirror\nset ytics nomirror\n"
    << "set xlabel " << gnuplot_quote(xlabel) << "\nset ylabel " << gnuplot_quote(ylabel) << "\n";
  for (size_t p = 0; p < panels.size(); ++p) {
    b << "set title " << gnuplot_quote(panels[p].title) << "\n"
      << "plot '" << base << ".dat' index " << p << " using 1:2 with points pt 7 ps 1.2 lc rgb '#1f77b4'\n";
  }
  b << "unset multiplot\n";
  PlotFiles files = run_gnuplot(b.str(), stem, 380 * static_cast<int64_t>(panels.size()) + 80, 420, options,
                                options.svg);
  files.csv = stem + ".csv";
  return files;
}

}  // namespace dvae
