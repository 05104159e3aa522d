// The architecture registry: one line per VAE variant, name -> encoder and
// decoder factories. Adding a variant = one new file + one line below.
#include <functional>
#include <map>

#include "core/check.h"
#include "models/cnn.h"
#include "models/mlp.h"
#include "models/vae.h"

namespace dvae {
namespace {

struct ArchFactories {
  std::function<std::shared_ptr<EncoderImpl>(const ModelOptions&)> encoder;
  std::function<std::shared_ptr<DecoderImpl>(const ModelOptions&)> decoder;
};

const std::map<std::string, ArchFactories>& registry() {
  static const std::map<std::string, ArchFactories> archs = {
      {"mlp", {make_mlp_encoder, make_mlp_decoder}},
      {"cnn", {make_cnn_encoder, make_cnn_decoder}},
  };
  return archs;
}

const ArchFactories& lookup(const std::string& arch) {
  const auto it = registry().find(arch);
  if (it == registry().end()) {
    std::string names;
    for (const auto& name : registered_archs()) names += (names.empty() ? "" : ", ") + name;
    throw Error("--arch: unknown architecture '" + arch + "', expected one of: " + names);
  }
  return it->second;
}

}  // namespace

std::shared_ptr<EncoderImpl> make_encoder(const ModelOptions& options) { return lookup(options.arch).encoder(options); }

std::shared_ptr<DecoderImpl> make_decoder(const ModelOptions& options) { return lookup(options.arch).decoder(options); }

std::vector<std::string> registered_archs() {
  std::vector<std::string> names;
  for (const auto& entry : registry()) names.push_back(entry.first);
  return names;
}

}  // namespace dvae
