// Checkpoint writing and strict loading (see checkpoint.h for the layout).
#include "training/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <zlib.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/json_check.h"
#include "core/zip_check.h"
#include "training/objectives.h"

namespace dvae {
namespace {

constexpr const char* kFormat = "dvae-vae-checkpoint";
constexpr int kFormatVersion = 1;
const char* const kHint = "expected a checkpoint.pt written by dvae train";

// First line of a LibTorch error (its messages carry a C++ backtrace).
std::string first_line(const std::string& what) { return what.substr(0, what.find('\n')); }

// Opens path as an archive; every failure becomes a dvae::Error naming it. The
// file is read once (one snapshot, even while `dvae train` replaces it) and its
// zip entries checked before LibTorch parses them: its reader checks no CRC-32,
// and its TorchScript importer crashes on some damaged archives (fuzz_checkpoint).
void open_archive(const std::string& path, torch::serialize::InputArchive& archive) {
  DVAE_CHECK(std::filesystem::is_regular_file(path), path, ": no such file, ", kHint);
  const std::string bytes = read_file(path);
  try {
    check_zip(bytes);
    archive.load_from(bytes.data(), bytes.size());  // reads every record now: bytes may go
  } catch (const std::exception& e) {
    throw Error(path + ": not a readable checkpoint (" + first_line(e.what()) + "), " + kHint +
                " (truncated or corrupt?)");
  }
}

CheckpointMeta read_meta(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue value;
  try {
    archive.read("meta", value);
  } catch (const std::exception& e) {
    throw Error(path + ": no metadata in the archive (" + first_line(e.what()) + "), " + kHint);
  }
  DVAE_CHECK(value.isString(), path, ": metadata is not a string, ", kHint);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(value.toStringRef());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": metadata is not JSON (" + e.what() + "), " + kHint);
  }
  return checkpoint_meta_from_json(json, path);
}

std::map<std::string, std::pair<std::vector<int64_t>, c10::ScalarType>> tensor_signature(torch::nn::Module& m) {
  std::map<std::string, std::pair<std::vector<int64_t>, c10::ScalarType>> sig;
  for (const auto& p : m.named_parameters()) sig[p.key()] = {p.value().sizes().vec(), p.value().scalar_type()};
  for (const auto& b : m.named_buffers()) sig[b.key()] = {b.value().sizes().vec(), b.value().scalar_type()};
  return sig;
}

// CRC-32 of names and contents. LibTorch's zip reader does not check its own
// CRCs, so without this a damaged tensor would load silently.
class Digest {
 public:
  void add(const std::string& name, const torch::Tensor& tensor) {
    crc_ = crc32(crc_, reinterpret_cast<const Bytef*>(name.data()), static_cast<uInt>(name.size()));
    const torch::Tensor t = tensor.detach().cpu().contiguous();
    const auto* bytes = static_cast<const Bytef*>(t.data_ptr());
    size_t left = t.numel() * t.element_size();
    while (left > 0) {
      const size_t n = std::min<size_t>(left, 1u << 30);
      crc_ = crc32(crc_, bytes, static_cast<uInt>(n));
      bytes += n;
      left -= n;
    }
  }
  void add(const torch::nn::Module& m) {
    for (const auto& p : m.named_parameters()) add(p.key(), p.value());
    for (const auto& b : m.named_buffers()) add(b.key(), b.value());
  }
  void add(const torch::Tensor& tensor) { add("", tensor); }
  // The optimiser archive holds only its state; the parameters are the model's.
  void add(const FlatOptimizer& o) {
    for (const auto& s : o.state()) add("state", s);
  }
  std::string hex() const {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08lx", static_cast<unsigned long>(crc_));
    return buf;
  }

 private:
  uLong crc_ = crc32(0L, Z_NULL, 0);
};

template <typename T>
std::string digest_of(const T& x) {
  Digest d;
  d.add(x);
  return d.hex();
}

// Compares a part's digest with the one saved (checkpoints written before
// digests existed have none and are taken as they are).
void check_digest(const nlohmann::json& saved, const char* part, const std::string& actual, const std::string& path) {
  if (!saved.is_object() || !saved.contains(part)) return;
  DVAE_CHECK(saved[part] == actual, path, ": ", part, " data does not match its checksum (", actual, " instead of ",
             saved[part].dump(), "), the file is corrupt; ", kHint);
}

nlohmann::json read_digests(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue value;
  if (!archive.try_read("digests", value)) return nullptr;
  try {
    DVAE_CHECK(value.isString(), path, ": checksums are not a string");
    return nlohmann::json::parse(value.toStringRef());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": checksums are not JSON (" + e.what() + "), the file is corrupt; " + kHint);
  }
}

}  // namespace

nlohmann::json checkpoint_meta_to_json(const CheckpointMeta& meta) {
  return {{"format", kFormat},
          {"format_version", kFormatVersion},
          {"arch", meta.arch},
          {"latent_dim", meta.latent_dim},
          {"beta", meta.beta},
          {"dataset", meta.dataset},
          {"seed", meta.seed},
          {"epoch", meta.epoch},
          {"epochs", meta.epochs},
          {"dvae_version", meta.dvae_version},
          {"model_options", meta.model_options},
          {"train_options", meta.train_options},
          {"last_stats", meta.last_stats}};
}

CheckpointMeta checkpoint_meta_from_json(const nlohmann::json& json, const std::string& path) {
  CheckpointMeta meta;
  try {
    DVAE_CHECK(json.is_object() && json.value("format", "") == kFormat, path, ": metadata format '",
               json.is_object() ? json.value("format", "") : "", "', expected '", kFormat, "'");
    require_json_integer_fields(json, path, {"format_version", "latent_dim", "epoch", "epochs"});
    DVAE_CHECK(!json.contains("seed") || json.at("seed").is_number_integer(), path,
               ": metadata seed is not an integer, the file is corrupt");
    const int version = json.at("format_version").get<int>();
    DVAE_CHECK(version == kFormatVersion, path, ": checkpoint format version ", version, ", expected ",
               kFormatVersion, " (written by another dvae version?)");
    meta.arch = json.at("arch").get<std::string>();
    meta.latent_dim = json.at("latent_dim").get<int64_t>();
    meta.beta = json.at("beta").get<double>();
    meta.dataset = json.at("dataset").get<std::string>();
    meta.seed = json.at("seed").get<uint64_t>();
    meta.epoch = json.at("epoch").get<int64_t>();
    meta.epochs = json.at("epochs").get<int64_t>();
    meta.dvae_version = json.at("dvae_version").get<std::string>();
    meta.model_options = json.at("model_options");
    meta.train_options = json.at("train_options");
    if (meta.train_options.is_object() && meta.train_options.contains("objective")) {
      const auto& name = meta.train_options.at("objective");
      DVAE_CHECK(name.is_string() && is_objective(name.get<std::string>()), path, ": trained with objective ",
                 name.dump(), ", expected one of ", objective_names_text(), " (written by another dvae version?)");
    }
    meta.last_stats = json.value("last_stats", nlohmann::json());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": metadata field missing or of the wrong type (" + e.what() + "), " + kHint);
  }
  return meta;
}

void save_checkpoint(const std::string& path, torch::nn::Module& vae, const CheckpointMeta& meta,
                     const FlatOptimizer* optimizer, const at::Generator* generator,
                     torch::nn::Module* objective_model, const FlatOptimizer* objective_optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("meta", c10::IValue(checkpoint_meta_to_json(meta).dump()));
  torch::serialize::OutputArchive model_archive;
  vae.save(model_archive);
  archive.write("model", model_archive);
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_archive;
    optimizer->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
  }
  if (objective_model != nullptr) {
    torch::serialize::OutputArchive part;
    objective_model->save(part);
    archive.write("objective_model", part);
  }
  if (objective_optimizer != nullptr) {
    torch::serialize::OutputArchive part;
    objective_optimizer->save(part);
    archive.write("objective_optimizer", part);
  }
  torch::Tensor rng_state;
  {
    at::Generator gen = generator != nullptr ? *generator : at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    rng_state = gen.get_state();  // uint8 [5056]
  }
  archive.write("rng_cpu", rng_state, /*is_buffer=*/true);
  nlohmann::json digests = {{"model", digest_of(vae)}, {"rng_cpu", digest_of(rng_state)}};
  if (optimizer != nullptr) digests["optimizer"] = digest_of(*optimizer);
  if (objective_model != nullptr) digests["objective_model"] = digest_of(*objective_model);
  if (objective_optimizer != nullptr) digests["objective_optimizer"] = digest_of(*objective_optimizer);
  archive.write("digests", c10::IValue(digests.dump()));
  // Serialised in memory: LibTorch's file writer throws from its destructor
  // when the disk fills up, which ends the process (std::terminate) and leaves
  // its temporary file behind. dvae's writer checks every write and the fsync.
  std::ostringstream bytes;
  archive.save_to(bytes);
  try {
    write_file_atomic(path, bytes.str());
  } catch (const std::exception& e) {
    throw Error(path + ": cannot write checkpoint (" + first_line(e.what()) +
                "), expected a writable folder with free space");
  }
}

CheckpointMeta read_checkpoint_meta(const std::string& path) {
  torch::serialize::InputArchive archive;
  open_archive(path, archive);
  return read_meta(archive, path);
}

namespace {

// Restores from an open archive: one open is one snapshot of the file, so a
// reader racing a writer's rename gets the old checkpoint or the new one whole.
// The objective's own parts (see restore_checkpoint).
void restore_objective_parts(torch::serialize::InputArchive& archive, const std::string& path,
                             const nlohmann::json& digests, torch::nn::Module* model, FlatOptimizer* optimizer) {
  if (model != nullptr) {
    const auto expected = tensor_signature(*model);
    try {
      torch::serialize::InputArchive part;
      archive.read("objective_model", part);
      model->load(part);
    } catch (const std::exception& e) {
      throw Error(path + ": the objective's own model (factor-vae's discriminator) is missing or of another shape (" +
                  first_line(e.what()) + "), " + kHint + " with the same --objective and its settings");
    }
    DVAE_CHECK(tensor_signature(*model) == expected, path,
               ": the objective's own model has other shapes than its settings give, ", kHint,
               " with the same --objective and its settings");
    check_digest(digests, "objective_model", digest_of(*model), path);
  }
  if (optimizer != nullptr) {
    try {
      torch::serialize::InputArchive part;
      archive.read("objective_optimizer", part);
      optimizer->load(part);
    } catch (const std::exception& e) {
      throw Error(path + ": the objective's optimiser state is missing or of another size (" + first_line(e.what()) +
                  "), " + kHint + " with the same --objective and its settings");
    }
    check_digest(digests, "objective_optimizer", digest_of(*optimizer), path);
  }
}

CheckpointMeta restore_from(torch::serialize::InputArchive& archive, const std::string& path, torch::nn::Module& vae,
                           FlatOptimizer* optimizer, bool restore_rng, at::Generator* generator,
                           torch::nn::Module* objective_model = nullptr,
                           FlatOptimizer* objective_optimizer = nullptr) {
  CheckpointMeta meta = read_meta(archive, path);
  const nlohmann::json digests = read_digests(archive, path);
  const auto expected = tensor_signature(vae);
  try {
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    vae.load(model_archive);
  } catch (const std::exception& e) {
    throw Error(path + ": model weights do not fit a " + meta.arch + " VAE with " + std::to_string(meta.latent_dim) +
                " latents (" + first_line(e.what()) + "), " + kHint);
  }
  // Module::load replaces tensors whatever their shape: compare afterwards.
  const auto loaded = tensor_signature(vae);
  for (const auto& [name, sig] : expected) {
    const auto it = loaded.find(name);
    DVAE_CHECK(it != loaded.end() && it->second == sig, path, ": tensor ", name,
               " has another shape or type than the model expects (arch ", meta.arch, ", ", meta.latent_dim,
               " latents), ", kHint, " for this architecture");
  }
  check_digest(digests, "model", digest_of(vae), path);
  if (optimizer != nullptr) {
    try {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    } catch (const std::exception& e) {
      throw Error(path + ": optimiser state missing or of another optimiser (" + first_line(e.what()) + "), " +
                  kHint + " with the same --optimizer");
    }
    check_digest(digests, "optimizer", digest_of(*optimizer), path);
  }
  restore_objective_parts(archive, path, digests, objective_model, objective_optimizer);
  if (restore_rng) {
    torch::Tensor rng_state;
    try {
      archive.read("rng_cpu", rng_state, /*is_buffer=*/true);
    } catch (const std::exception& e) {
      throw Error(path + ": random generator state missing or invalid (" + first_line(e.what()) + "), " + kHint);
    }
    check_digest(digests, "rng_cpu", digest_of(rng_state), path);
    try {
      at::Generator gen = generator != nullptr ? *generator : at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(rng_state);
    } catch (const std::exception& e) {
      throw Error(path + ": random generator state missing or invalid (" + first_line(e.what()) + "), " + kHint);
    }
  }
  return meta;
}

}  // namespace

CheckpointMeta restore_checkpoint(const std::string& path, torch::nn::Module& vae, FlatOptimizer* optimizer,
                                  bool restore_rng, at::Generator* generator, torch::nn::Module* objective_model,
                                  FlatOptimizer* objective_optimizer) {
  torch::serialize::InputArchive archive;
  open_archive(path, archive);
  return restore_from(archive, path, vae, optimizer, restore_rng, generator, objective_model, objective_optimizer);
}

void export_state_dict(const torch::nn::Module& module, const std::string& path) {
  c10::Dict<std::string, torch::Tensor> tensors;
  for (const auto& p : module.named_parameters()) tensors.insert(p.key(), p.value().detach().cpu().contiguous());
  for (const auto& b : module.named_buffers()) tensors.insert(b.key(), b.value().detach().cpu().contiguous());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(tensors));
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

LoadedVae load_vae(const std::string& path, torch::Device device) {
  // Metadata and weights from one open: opening the path twice could pair one
  // checkpoint's metadata with the next one's weights while `dvae train` rewrites it.
  torch::serialize::InputArchive archive;
  open_archive(path, archive);
  const CheckpointMeta meta = read_meta(archive, path);
  ModelOptions options;
  try {
    options = model_options_from_json(meta.model_options);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  DVAE_CHECK(options.arch == meta.arch && options.latent_dim == meta.latent_dim, path,
             ": metadata disagrees with its model options (arch ", meta.arch, " vs ", options.arch, "), ", kHint);
  Vae vae = nullptr;
  try {
    vae = Vae(options);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  restore_from(archive, path, *vae, nullptr, false, nullptr);
  vae->to(device);
  vae->eval();
  return {vae, meta};
}

}  // namespace dvae
