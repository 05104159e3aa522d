// Finished figures from models and data: each function computes the images,
// writes the grid PNG, and (unless labels are off) has gnuplot draw the
// labelled figure; a JSON sidecar records what is shown (indices, KL, losses)
// so that a figure can be checked without looking at it. Used by the dvae
// traverse / reconstruct / sample / plot subcommands and by the report.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/grid.h"
#include "analysis/plots.h"
#include "analysis/reconstruction.h"
#include "analysis/traversal.h"
#include "data/image_set.h"

namespace dvae {

/// Drawing options shared by the image figures.
struct FigureOptions {
  GridOptions grid;    ///< cell scale and separators (default 3x, 2 px)
  PlotOptions plot;    ///< gnuplot settings for the labels
  bool labels = true;  ///< draw titles and labels with gnuplot; false writes the bare grid at the output path
};

/// What an image figure wrote.
struct FigureFiles {
  std::string figure;  ///< the figure asked for (labelled, or the bare grid when labels are off)
  std::string grid;    ///< the bare grid PNG (same as figure when labels are off)
  std::string json;    ///< the sidecar describing the figure
  nlohmann::json info; ///< the sidecar's contents
};

/// The path beside out_png with its extension replaced by suffix (e.g. "_grid.png", ".json").
std::string sibling_path(const std::string& out_png, const std::string& suffix);

/// Latent traversal figure: KL per latent on test, base code = prior mean (base_index < 0)
/// or the encoding mean of test image base_index; rows by KL, collapsed rows marked.
FigureFiles write_traversal_figure(const VaeParts& vae, const ImageSet& test, int64_t base_index,
                                   const TraversalOptions& options, const std::string& title,
                                   const std::string& out_png, const FigureOptions& figure = {});

/// Reconstruction figure: k test images (random by seed, or the k worst by the first model's
/// loss) over one row of reconstructions per model, in blocks of cols. names label the models.
FigureFiles write_reconstruction_figure(const std::vector<VaeParts>& vaes, const std::vector<std::string>& names,
                                        const ImageSet& test, int64_t k, bool worst, uint64_t seed, int64_t cols,
                                        const std::string& title, const std::string& out_png,
                                        const FigureOptions& figure = {});

/// Prior samples figure: n images from z ~ N(0, I) (seeded), cols per row.
FigureFiles write_samples_figure(DecoderImpl& decoder, int64_t latent_dim, int64_t n, uint64_t seed, int64_t cols,
                                 const std::string& title, const std::string& out_png,
                                 const FigureOptions& figure = {});

/// Misclassification gallery: up to max_images wrong test images, captioned
/// "P (true T)", P predicted (predictions: one label per test image).
FigureFiles write_gallery_figure(const ImageSet& test, const std::vector<int64_t>& predictions, int64_t max_images,
                                 int64_t cols, const std::string& title, const std::string& out_png,
                                 const FigureOptions& figure = {});

}  // namespace dvae
