// Presets, TOML overrides and JSON form of ReproduceConfig.
#include "experiments/reproduce_config.h"

#include <toml++/toml.h>

#include "core/check.h"

namespace dvae {

ReproduceConfig preset_config(const std::string& name) {
  ReproduceConfig c;
  if (name == "paper") return c;
  DVAE_CHECK_USAGE(name == "quick", "--preset ", name, ": expected quick or paper");
  // Every part of the report in well under 10 minutes on 2 CPU cores: fewer
  // VAE epochs (the CNN on part of the training set), fewer sizes and trials,
  // a shorter supervised baseline.
  c.preset = "quick";
  c.mlp_epochs = 10;
  c.cnn_epochs = 1;
  c.mlp_vae_train_images = 0;
  c.cnn_vae_train_images = 12000;
  c.sizes = {1, 5, 10, 100, 1000};
  c.trials_small = 3;
  c.trials_large = 1;
  c.probe_epochs = 100;
  c.supervised_epochs = 20;
  return c;
}

namespace {

template <typename T>
T get_value(const toml::node& node, const std::string& key, const std::string& path) {
  auto v = node.value<T>();
  DVAE_CHECK(v.has_value(), path, ": key '", key, "' has the wrong type");
  return *v;
}

std::vector<int64_t> parse_sizes(const toml::node& node, const std::string& path) {
  const auto* arr = node.as_array();
  DVAE_CHECK(arr, path, ": key 'sizes' must be an array of integers or \"all\"");
  std::vector<int64_t> out;
  for (auto&& element : *arr) {
    if (auto s = element.value<std::string>(); s && *s == "all") {
      out.push_back(-1);
    } else if (auto i = element.value<int64_t>(); i && *i > 0) {
      out.push_back(*i);
    } else {
      throw Error(path + ": key 'sizes': expected positive integers or \"all\"");
    }
  }
  DVAE_CHECK(!out.empty(), path, ": key 'sizes' is empty");
  return out;
}

}  // namespace

void apply_toml_overrides(ReproduceConfig& c, const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw Error(path + ": TOML syntax error at line " + std::to_string(e.source().begin.line) + ": " +
                std::string(e.description()));
  }
  // A [reproduce] table is accepted as well as top-level keys.
  const toml::table* root = &table;
  if (auto sub = table["reproduce"].as_table()) root = sub;
  for (auto&& [k, node] : *root) {
    std::string key(k.str());
    for (auto& ch : key)
      if (ch == '-') ch = '_';
    if (key == "preset") {
      const auto name = get_value<std::string>(node, key, path);
      ReproduceConfig base = preset_config(name);
      // Keys set before 'preset' are rare; the preset is applied first by convention.
      c = base;
    } else if (key == "archs") {
      c.archs.clear();
      const auto* arr = node.as_array();
      DVAE_CHECK(arr, path, ": key 'archs' must be an array of strings");
      for (auto&& e : *arr) c.archs.push_back(get_value<std::string>(e, key, path));
    } else if (key == "dataset") {
      c.dataset = get_value<std::string>(node, key, path);
    } else if (key == "seed") {
      c.seed = static_cast<uint64_t>(get_value<int64_t>(node, key, path));
    } else if (key == "latent_dim") {
      c.latent_dim = get_value<int64_t>(node, key, path);
    } else if (key == "mlp_epochs") {
      c.mlp_epochs = get_value<int64_t>(node, key, path);
    } else if (key == "cnn_epochs") {
      c.cnn_epochs = get_value<int64_t>(node, key, path);
    } else if (key == "mlp_beta") {
      c.mlp_beta = get_value<double>(node, key, path);
    } else if (key == "cnn_beta") {
      c.cnn_beta = get_value<double>(node, key, path);
    } else if (key == "mlp_vae_train_images") {
      c.mlp_vae_train_images = get_value<int64_t>(node, key, path);
    } else if (key == "cnn_vae_train_images") {
      c.cnn_vae_train_images = get_value<int64_t>(node, key, path);
    } else if (key == "sizes") {
      c.sizes = parse_sizes(node, path);
    } else if (key == "trials_small") {
      c.trials_small = get_value<int64_t>(node, key, path);
    } else if (key == "trials_large") {
      c.trials_large = get_value<int64_t>(node, key, path);
    } else if (key == "probe_epochs") {
      c.probe_epochs = get_value<int64_t>(node, key, path);
    } else if (key == "supervised_epochs") {
      c.supervised_epochs = get_value<int64_t>(node, key, path);
    } else if (key == "hidden") {
      c.hidden = get_value<int64_t>(node, key, path);
    } else if (key == "with_logvar") {
      c.with_logvar = get_value<bool>(node, key, path);
    } else {
      throw Error(path + ": unknown key '" + std::string(k.str()) +
                  "' (expected one of the settings listed by `dvae reproduce --help`)");
    }
  }
  DVAE_CHECK(c.mlp_epochs >= 1 && c.cnn_epochs >= 1, path, ": VAE epochs must be >= 1");
  DVAE_CHECK(c.trials_small >= 1 && c.trials_large >= 1, path, ": trials must be >= 1");
  DVAE_CHECK(c.probe_epochs >= 1 && c.supervised_epochs >= 1, path, ": classifier epochs must be >= 1");
}

nlohmann::json config_to_json(const ReproduceConfig& c) {
  return {{"preset", c.preset},
          {"archs", c.archs},
          {"dataset", c.dataset},
          {"seed", c.seed},
          {"latent_dim", c.latent_dim},
          {"mlp_epochs", c.mlp_epochs},
          {"cnn_epochs", c.cnn_epochs},
          {"mlp_beta", c.mlp_beta},
          {"cnn_beta", c.cnn_beta},
          {"mlp_vae_train_images", c.mlp_vae_train_images},
          {"cnn_vae_train_images", c.cnn_vae_train_images},
          {"sizes", c.sizes},
          {"trials_small", c.trials_small},
          {"trials_large", c.trials_large},
          {"probe_epochs", c.probe_epochs},
          {"supervised_epochs", c.supervised_epochs},
          {"hidden", c.hidden},
          {"with_logvar", c.with_logvar}};
}

int64_t vae_epochs(const ReproduceConfig& c, const std::string& arch) {
  return arch == "cnn" ? c.cnn_epochs : c.mlp_epochs;
}
double disentangled_beta(const ReproduceConfig& c, const std::string& arch) {
  return arch == "cnn" ? c.cnn_beta : c.mlp_beta;
}
int64_t vae_train_images(const ReproduceConfig& c, const std::string& arch) {
  return arch == "cnn" ? c.cnn_vae_train_images : c.mlp_vae_train_images;
}

}  // namespace dvae
