// Plots drawn by gnuplot, which dvae drives through a generated script plus
// data files kept beside each figure (rerun with `gnuplot NAME.gp`). Every plot
// is written as PNG (pngcairo) and, except labelled images, SVG, atomically,
// with the plotted numbers as CSV. Figures here: Figure 4 (accuracy against
// labels per class), per-latent KL bars, confusion heat maps, training curves,
// and text labels around image grids (traversals, reconstructions, galleries).
// No chart or glyph is rasterised by dvae itself.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "analysis/records.h"
#include "evaluation/protocol.h"

namespace dvae {

/// How plots are rendered.
struct PlotOptions {
  std::string gnuplot;              ///< gnuplot executable; empty = /usr/bin/gnuplot, /usr/local/bin/gnuplot, PATH
  std::string font = "Sans,11";     ///< terminal font (default "Sans,11")
  bool svg = true;                  ///< also write SVG beside the PNG (default true)
};

/// The files a plot produced (empty when not written).
struct PlotFiles {
  std::string png;     ///< the PNG figure
  std::string svg;     ///< the SVG figure
  std::string csv;     ///< the plotted numbers
  std::string script;  ///< the gnuplot script that drew it
};

/// The gnuplot executable to use; throws dvae::Error with an install hint when none is found.
std::string find_gnuplot(const PlotOptions& options = {});

/// Writes stem.gp (terminal set-up + body, once per output format) and runs gnuplot in the
/// folder of stem; body refers to data files by their base names. Outputs stem.png
/// (and stem.svg when svg), width x height pixels. Throws dvae::Error with gnuplot's message.
PlotFiles run_gnuplot(const std::string& body, const std::string& stem, int64_t width, int64_t height,
                      const PlotOptions& options, bool svg);

/// Quotes text as a gnuplot double-quoted string literal.
std::string gnuplot_quote(const std::string& text);

/// Text placed around or on an image by render_labelled_image. Positions are in the
/// image's pixels, measured from its top-left corner.
struct ImageLabels {
  std::string title;                                        ///< above the image
  std::vector<std::pair<int64_t, std::string>> row_labels;  ///< (pixel row, text) left of the image
  std::vector<std::pair<int64_t, std::string>> col_labels;  ///< (pixel column, text) below the image
  struct Caption {
    int64_t x = 0;     ///< pixel column of the text's centre
    int64_t y = 0;     ///< pixel row of the text's centre
    std::string text;  ///< the caption
  };
  std::vector<Caption> captions;  ///< small text drawn on the image (for example under gallery cells)
  std::string xlabel;             ///< under the column labels
};

/// Draws image_png (written by write_png) 1:1 with labels around it into out_png (PNG only).
/// The script is kept at out_png's stem + ".gp".
PlotFiles render_labelled_image(const std::string& image_png, const ImageLabels& labels, const std::string& out_png,
                                const PlotOptions& options = {});

/// Where n = -1 ("all") sits on Figure 4's logarithmic axis.
constexpr double kAllLabelsX = 6000.0;

/// Figure 4: accuracy (%) against labels per class, log x with "all" at 6000, one line per
/// model with error bars from summarise(): the 95% interval of the mean over the
/// replication units (VAE seeds when a model has several, else label trials), one panel
/// per architecture (per data set and architecture when rows hold several data sets).
/// Writes out_dir/figure4.{png,svg,csv,dat,gp}.
PlotFiles plot_accuracy_vs_labels(const std::vector<ResultRow>& rows, const std::string& out_dir,
                                  const PlotOptions& options = {});

/// Bar chart of per-latent KL (nats); bars under collapsed_kl are grey and counted in the
/// title. Writes stem.{png,svg,csv,dat,gp}.
PlotFiles plot_latent_kl(const std::vector<double>& kl, const std::string& title, const std::string& stem,
                         const PlotOptions& options = {}, double collapsed_kl = 0.01);

/// One line of a forest plot: an estimate and its interval.
struct ForestLine {
  std::string label;  ///< shown left of the line
  double estimate = 0.0;  ///< point estimate
  double low = 0.0;       ///< interval lower end
  double high = 0.0;      ///< interval upper end
};

/// Forest plot: one horizontal interval per line (top to bottom), a zero line and, when
/// margin > 0, dotted lines at +-margin. Writes stem.{png,csv,dat,gp} (PNG only).
PlotFiles plot_forest(const std::vector<ForestLine>& lines, const std::string& title, const std::string& xlabel,
                      const std::string& stem, const PlotOptions& options = {}, double margin = 0.0);

/// Confusion-matrix heat map (rows = true class, columns = predicted), coloured by the
/// row-normalised fraction and labelled with counts. Writes stem.{png,svg,csv,dat,gp}.
PlotFiles plot_confusion(const std::vector<std::vector<int64_t>>& confusion, const std::string& title,
                         const std::string& stem, const PlotOptions& options = {});

/// Training curves: reconstruction and KL (train and test) and test ELBO against epoch,
/// three panels. Writes stem.{png,svg,csv,dat,gp}.
PlotFiles plot_training_curves(const std::vector<EpochRecord>& log, const std::string& title,
                               const std::string& stem, const PlotOptions& options = {});

}  // namespace dvae
