// Traversal, reconstruction, sample and gallery figures: grid + labels + sidecar.
#include "analysis/figures.h"

#include <cstdio>
#include <filesystem>

#include "analysis/png.h"
#include "core/atomic_file.h"
#include "core/check.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

std::string fmt(double v, const char* spec = "%.3g") {
  char buf[64];
  std::snprintf(buf, sizeof(buf), spec, v);
  return buf;
}

/// Writes the grid and, when labels are on, the labelled figure and the sidecar.
FigureFiles finish(const torch::Tensor& grid, const ImageLabels& labels, const std::string& out_png,
                   const FigureOptions& figure, nlohmann::json info) {
  DVAE_CHECK(!out_png.empty(), "--out: empty path, expected a .png file name");
  FigureFiles files;
  files.json = sibling_path(out_png, ".json");
  if (figure.labels) {
    files.grid = sibling_path(out_png, "_grid.png");
    write_png(files.grid, grid);
    files.figure = render_labelled_image(files.grid, labels, out_png, figure.plot).png;
  } else {
    files.grid = out_png;
    write_png(out_png, grid);
    files.figure = out_png;
  }
  info["figure"] = files.figure;
  info["grid"] = files.grid;
  info["grid_height"] = grid.size(0);
  info["grid_width"] = grid.size(1);
  files.info = info;
  write_file_atomic(files.json, info.dump(2) + "\n");
  return files;
}

/// Pixel row of the centre of cell row r.
int64_t row_centre(int64_t r, int64_t h, const GridOptions& o) {
  return grid_cell_origin(r, 0, h, 1, o).first + h * o.scale / 2;
}

/// Pixel column of the centre of cell column c.
int64_t col_centre(int64_t c, int64_t w, const GridOptions& o) {
  return grid_cell_origin(0, c, 1, w, o).second + w * o.scale / 2;
}

}  // namespace

std::string sibling_path(const std::string& out_png, const std::string& suffix) {
  fs::path p(out_png);
  const std::string stem = p.has_extension() ? (p.parent_path() / p.stem()).string() : out_png;
  return stem + suffix;
}

FigureFiles write_traversal_figure(const VaeParts& vae, const ImageSet& test, int64_t base_index,
                                   const TraversalOptions& options, const std::string& title,
                                   const std::string& out_png, const FigureOptions& figure) {
  DVAE_CHECK(base_index < test.size(), "--base ", base_index, ": not a test image, expected prior or 0..",
             test.size() - 1);
  const auto kl = latent_kl(*vae.encoder, test);  // [D]
  torch::Tensor base = torch::zeros({kl.size(0)});
  if (base_index >= 0) {
    base = encode_set(*vae.encoder, test.subset(torch::tensor({base_index}, torch::kInt64))).mu[0];  // [1,D] -> [D]
  }
  const Traversal t = traverse_latents(*vae.decoder, base, kl, options);
  const int64_t rows = static_cast<int64_t>(t.rows.size());
  const int64_t h = t.images.size(2);
  const int64_t w = t.images.size(3);
  const auto grid = make_grid(t.images, rows, options.steps, figure.grid);

  ImageLabels labels;
  labels.title = title;
  const auto row_text = traversal_row_labels(t);
  for (int64_t r = 0; r < rows; ++r) labels.row_labels.push_back({row_centre(r, h, figure.grid), row_text[r]});
  for (int64_t c = 0; c < options.steps; ++c) {
    labels.col_labels.push_back({col_centre(c, w, figure.grid), fmt(t.values[c].item<double>(), "%.3g")});
  }
  labels.xlabel = "value of the varied latent (others fixed at the " +
                  std::string(base_index < 0 ? "prior mean, 0" : "code of test image " + std::to_string(base_index)) +
                  ")";
  int64_t collapsed = 0;
  nlohmann::json rows_json = nlohmann::json::array();
  for (const auto& row : t.rows) {
    collapsed += row.collapsed ? 1 : 0;
    rows_json.push_back({{"latent", row.latent}, {"kl", row.kl}, {"collapsed", row.collapsed}});
  }
  std::vector<double> values(t.values.data_ptr<double>(), t.values.data_ptr<double>() + t.values.numel());
  std::vector<float> base_values(base.data_ptr<float>(), base.data_ptr<float>() + base.numel());
  nlohmann::json info = {{"kind", "traversal"},      {"title", title},
                         {"steps", options.steps},   {"range", options.range},
                         {"base", base_index < 0 ? nlohmann::json("prior") : nlohmann::json(base_index)},
                         {"base_code", base_values}, {"values", values},
                         {"collapsed_kl", options.collapsed_kl},
                         {"collapsed", collapsed},   {"rows", rows_json}};
  return finish(grid, labels, out_png, figure, info);
}

FigureFiles write_reconstruction_figure(const std::vector<VaeParts>& vaes, const std::vector<std::string>& names,
                                        const ImageSet& test, int64_t k, bool worst, uint64_t seed, int64_t cols,
                                        const std::string& title, const std::string& out_png,
                                        const FigureOptions& figure) {
  DVAE_CHECK(!vaes.empty() && names.size() == vaes.size(), "reconstruct: ", vaes.size(), " models and ",
             names.size(), " names, expected one name per model");
  const torch::Tensor index = worst ? pick_worst(reconstruction_losses(vaes[0], test), k)
                                    : pick_random(test.size(), k, seed);  // [K]
  const Reconstructions r = reconstruct(vaes, test, index);
  const auto [cells, rows] = reconstruction_layout(r, cols);
  const int64_t h = r.originals.size(2);
  const auto grid = make_grid(cells, rows, cols, figure.grid);

  ImageLabels labels;
  labels.title = title;
  const int64_t per_block = 1 + static_cast<int64_t>(vaes.size());
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t m = row % per_block;
    labels.row_labels.push_back(
        {row_centre(row, h, figure.grid), m == 0 ? std::string("test image") : names[static_cast<size_t>(m - 1)]});
  }
  nlohmann::json losses = nlohmann::json::array();
  for (size_t m = 0; m < vaes.size(); ++m) {
    const auto l = r.losses[m].contiguous();
    losses.push_back({{"model", names[m]},
                      {"loss", std::vector<double>(l.data_ptr<double>(), l.data_ptr<double>() + l.numel())},
                      {"mean_loss", l.mean().item<double>()}});
  }
  const auto idx = r.index.contiguous();
  nlohmann::json info = {{"kind", "reconstruction"},
                         {"title", title},
                         {"selection", worst ? "worst" : "random"},
                         {"seed", seed},
                         {"k", k},
                         {"index", std::vector<int64_t>(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel())},
                         {"models", losses}};
  return finish(grid, labels, out_png, figure, info);
}

FigureFiles write_samples_figure(DecoderImpl& decoder, int64_t latent_dim, int64_t n, uint64_t seed, int64_t cols,
                                 const std::string& title, const std::string& out_png, const FigureOptions& figure) {
  const auto images = sample_prior(decoder, n, latent_dim, seed);  // [n,1,H,W]
  const auto grid = make_grid(images, grid_rows_for(n, cols), cols, figure.grid);
  ImageLabels labels;
  labels.title = title;
  nlohmann::json info = {{"kind", "samples"}, {"title", title}, {"n", n}, {"seed", seed}, {"latent_dim", latent_dim}};
  return finish(grid, labels, out_png, figure, info);
}

FigureFiles write_gallery_figure(const ImageSet& test, const std::vector<int64_t>& predictions, int64_t max_images,
                                 int64_t cols, const std::string& title, const std::string& out_png,
                                 const FigureOptions& figure) {
  const Gallery g = misclassified(test, predictions, max_images);
  const int64_t n = static_cast<int64_t>(g.predicted.size());
  FigureOptions captioned = figure;
  if (figure.labels) captioned.grid.caption_height = std::max<int64_t>(captioned.grid.caption_height, 16);
  const int64_t h = test.rows();
  const int64_t w = test.cols();
  const int64_t rows = grid_rows_for(n, cols);
  const auto grid = n == 0 ? make_grid(torch::zeros({0, 1, h, w}), 1, cols, captioned.grid)
                           : make_grid(g.images, rows, cols, captioned.grid);
  ImageLabels labels;
  labels.title = title + "\n" + std::to_string(n) + " of " + std::to_string(g.total_wrong) +
                 " misclassified test images; caption: predicted (true) label";
  const auto& o = captioned.grid;
  for (int64_t i = 0; i < n; ++i) {
    const auto [y, x] = grid_cell_origin(i / cols, i % cols, h, w, o);
    labels.captions.push_back({x + w * o.scale / 2, y + h * o.scale + o.caption_height / 2,
                               std::to_string(g.predicted[static_cast<size_t>(i)]) + " (true " +
                                   std::to_string(g.truth[static_cast<size_t>(i)]) + ")"});
  }
  const auto idx = g.index.contiguous();
  nlohmann::json info = {{"kind", "gallery"},
                         {"title", title},
                         {"total_wrong", g.total_wrong},
                         {"index", std::vector<int64_t>(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel())},
                         {"predicted", g.predicted},
                         {"truth", g.truth}};
  return finish(grid, labels, out_png, captioned, info);
}

}  // namespace dvae
