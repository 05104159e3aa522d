// Scatter plots in panels side by side (one row): the disentanglement stage's
// metric against few-label accuracy, one panel per label budget.
// Not for: lines, error bars or categorical axes (analysis/plots.h has those).
#pragma once

#include <string>
#include <vector>

#include "analysis/plots.h"

namespace dvae {

/// One panel: its title and the points (x[i], y[i]).
struct ScatterPanel {
  std::string title;      ///< panel title (e.g. "n = 10, rho 0.31 [-0.1, 0.6]")
  std::vector<double> x;  ///< abscissae
  std::vector<double> y;  ///< ordinates (as many as x)
};

/// Draws the panels in one row under a common title; writes stem.{png,csv,dat,gp}
/// (and stem.svg when options.svg). Empty panels are drawn without points.
PlotFiles plot_scatter_panels(const std::vector<ScatterPanel>& panels, const std::string& title,
                              const std::string& xlabel, const std::string& ylabel, const std::string& stem,
                              const PlotOptions& options = {});

}  // namespace dvae
