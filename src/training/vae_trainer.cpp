// train_vae: the epoch loop, evaluation, logging, checkpoints and resume.
#include "training/vae_trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/cpu_dispatch.h"
#include "core/gemm.h"
#include "core/random.h"
#include "core/torch_compat.h"
#include "dvae/version.h"
#include "training/checkpoint.h"
#include "training/loss.h"
#include "training/distributed.h"
#include "training/mlp_step.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Stream ids for derive_seed: every source of randomness has its own.
constexpr uint64_t kInitStream = 1;     // LibTorch's default generator: initialisation only
constexpr uint64_t kStepStream = 4;     // the run's own generator: z samples, binarisation
constexpr uint64_t kShuffleStream = 2;  // dvae::Rng, one per epoch
constexpr uint64_t kEvalStream = 3;     // test-set z samples (same every epoch)

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_options(const Dataset& data, const ModelOptions& model, const TrainOptions& train) {
  DVAE_CHECK(train.epochs >= 1, "--epochs: ", train.epochs, ", expected >= 1");
  DVAE_CHECK(train.batch_size >= 1, "--batch-size: ", train.batch_size, ", expected >= 1");
  DVAE_CHECK(train.lr > 0 && std::isfinite(train.lr), "--lr: ", train.lr, ", expected a positive number");
  DVAE_CHECK(train.beta >= 0 && std::isfinite(train.beta), "--beta: ", train.beta, ", expected >= 0");
  check_objective_settings(train.objective);
  DVAE_CHECK(find_objective(train.objective.name).uses("beta") || train.beta == 1.0, "beta: ", train.beta,
             ", expected 1 with objective ", train.objective.name, " (it has no beta; its KL weight is 1)");
  DVAE_CHECK(train.optimizer == "adam" || train.optimizer == "sgd", "--optimizer: '", train.optimizer,
             "', expected adam or sgd");
  DVAE_CHECK(data.train.size() > 0, data.name, ": training set is empty, expected images");
  DVAE_CHECK(data.test.size() > 0, data.name, ": test set is empty, expected images");
  DVAE_CHECK(data.train.images.dim() == 3 && data.train.images.scalar_type() == torch::kUInt8, data.name,
             ": training images are not uint8 [N,H,W], expected an ImageSet from the data layer");
  DVAE_CHECK(data.train.rows() == model.image_size && data.train.cols() == model.image_size, data.name, ": images are ",
             data.train.rows(), "x", data.train.cols(), ", expected ", model.image_size, "x", model.image_size,
             " (the model's image size)");
  DVAE_CHECK(data.test.rows() == model.image_size && data.test.cols() == model.image_size, data.name,
             ": test images are ", data.test.rows(), "x", data.test.cols(), ", expected ", model.image_size, "x",
             model.image_size);
}

FlatOptimizer make_optimizer(VaeImpl& vae, const TrainOptions& train) {
  FlatOptimizerOptions o;
  o.kind = train.optimizer;
  o.lr = train.lr;
  o.momentum = train.momentum;
  return FlatOptimizer(vae.parameters(), o);
}

// The hand-written step serves the MLP on CPU unless autograd is asked for; it
// computes the beta-ELBO, so only for an objective that is that (beta-vae).
bool use_mlp_step(const ModelOptions& model, const TrainOptions& train, torch::Device device) {
  return model.arch == "mlp" && device.is_cpu() && !train.autograd &&
         find_objective(train.objective.name).hand_written_mlp_step;
}

// Everything but epochs must match for a resumed run to be the same run.
void check_resumable(const CheckpointMeta& meta, const std::string& path, const Dataset& data,
                     const ModelOptions& model, const TrainOptions& train) {
  const nlohmann::json want_model = model_options_to_json(model);
  DVAE_CHECK(meta.model_options == want_model, path, ": checkpoint of a ", meta.arch, " VAE with ", meta.latent_dim,
             " latents (", meta.model_options.dump(), "), expected ", model.arch, " with ", model.latent_dim,
             " latents (", want_model.dump(), "); use another --out or the checkpoint's options");
  try {
    (void)train_options_from_json(meta.train_options);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what() + " (written by another dvae version?)");
  }
  nlohmann::json have_train = meta.train_options;
  nlohmann::json want_train = train_options_to_json(train);
  if (have_train.is_object()) have_train.erase("epochs");
  want_train.erase("epochs");
  DVAE_CHECK(have_train == want_train, path, ": checkpoint trained with ", have_train.dump(), ", expected ",
             want_train.dump(), "; resume with the same options (only --epochs may change)");
  DVAE_CHECK(meta.dataset == data.name, path, ": checkpoint trained on '", meta.dataset, "', expected '", data.name,
             "'");
}

// Keeps the log lines of epochs <= last_epoch (a kill between the log line and
// the checkpoint leaves one line too many).
void trim_log(const std::string& log_path, int64_t last_epoch) {
  if (!fs::exists(log_path)) return;
  std::istringstream in(read_file(log_path));
  std::string kept;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).at("epoch").get<int64_t>() <= last_epoch) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {
      // a torn last line from a kill: drop it
    }
  }
  write_file_atomic(log_path, kept);
}

}  // namespace

TrainOptions default_train_options(const std::string& arch) {
  TrainOptions o;
  if (arch == "cnn") {
    o.beta = 6.0;
    o.epochs = 75;
  } else {
    o.beta = 4.0;
    o.epochs = 50;
  }
  return o;
}

nlohmann::json train_options_to_json(const TrainOptions& o) {
  nlohmann::json j = {{"beta", o.beta},         {"epochs", o.epochs},     {"lr", o.lr},
                      {"batch_size", o.batch_size}, {"optimizer", o.optimizer}, {"momentum", o.momentum},
                      {"binarize", o.binarize}, {"seed", o.seed}};
  j.update(objective_settings_to_json(o.objective));
  return j;
}

TrainOptions train_options_from_json(const nlohmann::json& json) {
  DVAE_CHECK(json.is_object(), "train options: ", json.dump(), ", expected a JSON object");
  TrainOptions o;
  if (json.contains("objective")) {
    DVAE_CHECK(json.at("objective").is_string(), "train options: objective = ", json.at("objective").dump(),
               ", expected one of ", objective_names_text());
    o.objective = default_objective_settings(json.at("objective").get<std::string>());
  }
  const Objective& objective = find_objective(o.objective.name);
  const auto& parameters = objective_parameter_names();
  for (const auto& [key, value] : json.items()) {
    if (key == "objective") continue;
    if (std::find(parameters.begin(), parameters.end(), key) != parameters.end()) {
      std::string uses;
      for (const auto& p : objective.parameters) uses += (uses.empty() ? "" : ", ") + p;
      DVAE_CHECK(objective.uses(key), "train options: ", key, " = ", value.dump(), ", expected only parameters of ",
                 o.objective.name, " (", uses, ")");
      set_objective_parameter(o.objective, key, value, "train options");
      continue;
    }
    try {
      if (key == "beta") {
        o.beta = value.get<double>();
      } else if (key == "epochs") {
        o.epochs = value.get<int64_t>();
      } else if (key == "lr") {
        o.lr = value.get<double>();
      } else if (key == "batch_size") {
        o.batch_size = value.get<int64_t>();
      } else if (key == "optimizer") {
        o.optimizer = value.get<std::string>();
      } else if (key == "momentum") {
        o.momentum = value.get<double>();
      } else if (key == "binarize") {
        o.binarize = value.get<bool>();
      } else if (key == "seed") {
        o.seed = value.get<uint64_t>();
      } else {
        throw Error("train options: unknown key '" + key + "'");
      }
    } catch (const nlohmann::json::exception&) {
      throw Error("train options: " + key + " = " + value.dump() + ", expected a value of the option's type");
    }
  }
  return o;
}

nlohmann::json epoch_stats_to_json(const EpochStats& s) {
  return {{"epoch", s.epoch},
          {"train_recon", s.train_recon},
          {"train_kl", s.train_kl},
          {"test_recon", s.test_recon},
          {"test_kl", s.test_kl},
          {"kl_per_latent", s.kl_per_latent},
          {"active_latents", s.active_latents},
          {"test_elbo", s.test_elbo},
          {"seconds", s.seconds},
          {"images_per_sec", s.images_per_sec},
          {"beta", s.beta}};
}

EpochStats epoch_stats_from_json(const nlohmann::json& json) {
  EpochStats s;
  try {
    s.epoch = json.at("epoch").get<int64_t>();
    s.train_recon = json.at("train_recon").get<double>();
    s.train_kl = json.at("train_kl").get<double>();
    s.test_recon = json.at("test_recon").get<double>();
    s.test_kl = json.at("test_kl").get<double>();
    s.kl_per_latent = json.at("kl_per_latent").get<std::vector<double>>();
    s.active_latents = json.at("active_latents").get<int64_t>();
    s.test_elbo = json.at("test_elbo").get<double>();
    s.seconds = json.at("seconds").get<double>();
    s.images_per_sec = json.at("images_per_sec").get<double>();
    s.beta = json.at("beta").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("epoch stats: ") + e.what() + ", expected a log.jsonl line written by dvae train");
  }
  return s;
}

EpochStats evaluate_vae(VaeImpl& vae, const ImageSet& set, torch::Device device, int64_t batch, uint64_t seed) {
  DVAE_CHECK(set.size() > 0, set.source, ": empty image set, expected images to evaluate on");
  const bool was_training = vae.is_training();
  vae.eval();
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t n = set.size();
  const int64_t d = vae.options().latent_dim;
  auto recon_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));  // []
  auto kl_sum = torch::zeros({d}, torch::TensorOptions().dtype(torch::kFloat64).device(device));    // [D]
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t len = std::min(batch, n - start);
    auto x = set.images.narrow(0, start, len).to(device).to(torch::kFloat32).div_(255.0f).unsqueeze(1);  // [B,H,W] -> [B,1,H,W]
    const Posterior q = vae.encoder()->encode(x);                                   // -> 2 x [B,D]
    const auto eps = torch::randn({len, d}, gen, torch::kFloat32).to(device);        // [B,D]
    const auto z = q.mu + torch::exp(0.5 * q.logvar) * eps;                          // [B,D]
    const auto x_logits = vae.decoder()->decode(z);                                  // [B,D] -> [B,1,H,W]
    recon_sum += bernoulli_nll(x_logits, x).sum().to(torch::kFloat64);
    kl_sum += kl_to_standard_normal(q.mu, q.logvar).sum(0).to(torch::kFloat64);     // [B,D] -> [D]
  }
  vae.train(was_training);
  EpochStats s;
  const auto kl_per_latent = (kl_sum / static_cast<double>(n)).cpu();
  s.kl_per_latent.assign(kl_per_latent.data_ptr<double>(), kl_per_latent.data_ptr<double>() + d);
  s.test_recon = recon_sum.item<double>() / static_cast<double>(n);
  s.test_kl = std::accumulate(s.kl_per_latent.begin(), s.kl_per_latent.end(), 0.0);
  s.active_latents = std::count_if(s.kl_per_latent.begin(), s.kl_per_latent.end(),
                                   [](double kl) { return kl > kActiveLatentKl; });
  s.test_elbo = -(s.test_recon + s.test_kl);
  return s;
}

EpochStats train_vae(const Dataset& data, const ModelOptions& model, const TrainOptions& train,
                     const std::string& run_dir, bool resume, torch::Device device, const TrainCallbacks& callbacks,
                     DataParallel* parallel) {
  const int rank = parallel ? parallel->rank() : 0;
  const int world = parallel ? parallel->world_size() : 1;
  const bool writer = rank == 0;  // rank 0 writes config, log and checkpoints
  // Only the beta-ELBO is a mean of per-image terms; the other objectives'
  // minibatch estimates (beta-tcvae's log q(z), factor-vae's discriminator,
  // annealed capacity on the batch KL) would differ on a shard.
  DVAE_CHECK(world == 1 || find_objective(train.objective.name).data_parallel, "objective ", train.objective.name,
             ": data-parallel training (world size ", world, ") supports ", data_parallel_objectives_text(),
             " only, expected one process");
  check_options(data, model, train);
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  DVAE_CHECK(fs::is_directory(run_dir), run_dir, ": cannot create the run folder (", ec.message(),
             "), expected a writable path for --out");
  const std::string checkpoint_path = run_dir + "/checkpoint.pt";
  const std::string log_path = run_dir + "/log.jsonl";
  const bool have_checkpoint = fs::exists(checkpoint_path);
  DVAE_CHECK(resume || !have_checkpoint, checkpoint_path,
             ": a run is already there, expected an empty --out folder (or pass --resume to continue it)");

  CheckpointMeta meta;
  meta.arch = model.arch;
  meta.latent_dim = model.latent_dim;
  meta.beta = train.beta;
  meta.dataset = data.name;
  meta.seed = train.seed;
  meta.epochs = train.epochs;
  meta.dvae_version = kVersion;
  meta.model_options = model_options_to_json(model);
  meta.train_options = train_options_to_json(train);

  if (have_checkpoint) {
    const CheckpointMeta saved = read_checkpoint_meta(checkpoint_path);
    check_resumable(saved, checkpoint_path, data, model, train);
    if (saved.epoch >= train.epochs && !saved.last_stats.is_null()) {
      return epoch_stats_from_json(saved.last_stats);
    }
  }

  if (writer) write_file_atomic(run_dir + "/config.json",
                    nlohmann::json{{"model", meta.model_options},
                                   {"train", meta.train_options},
                                   {"dataset", data.name},
                                   {"dataset_dir", data.dir},
                                   {"train_images", data.train.size()},
                                   {"test_images", data.test.size()},
                                   {"seed", train.seed},
                                   {"device", device.str()},
                                   {"objective", train.objective.name},
                                   {"training_step", use_mlp_step(model, train, device) ? "hand-written mlp" : "autograd"},
                                   {"gemm", gemm_backend_name(gemm_backend())},
                                   {"kernel_path", kernel_path_name(kernel_path())},
                                   {"dvae_version", kVersion},
                                   {"libtorch_version", compat::torch_version()},
                                   {"world_size", world},
                                   {"dist_backend", parallel ? parallel->backend() : "none"},
                                   {"dist_overlap", world > 1 && parallel->options().overlap}}
                            .dump(2) + "\n");

  Vae vae = nullptr;
  std::unique_ptr<ObjectiveLoss> objective;
  {
    // The objective's own parts (factor-vae's discriminator) are initialised
    // right after the VAE from the same seeded generator.
    std::lock_guard<std::mutex> lock(default_generator_mutex());
    seed_torch(derive_seed(train.seed, {kInitStream}));
    vae = Vae(model);
    ObjectiveContext context;
    context.settings = train.objective;
    context.beta = train.beta;
    context.latent_dim = model.latent_dim;
    context.dataset_size = data.train.size();
    context.device = device;
    objective = find_objective(train.objective.name).make(context);
  }
  // Everything random in the steps draws from the run's own generator, so that
  // runs in parallel threads stay deterministic; checkpoints carry its state.
  at::Generator generator = at::detail::createCPUGenerator(derive_seed(train.seed, {kStepStream}));
  vae->to(device);
  vae->train();
  // Batch normalisation over the global batch, not each rank's shard.
  if (parallel && world > 1) vae->decoder()->set_batch_sum(parallel->batch_sum());
  FlatOptimizer optimizer = make_optimizer(*vae, train);
  int64_t start_epoch = 0;
  EpochStats last;
  if (have_checkpoint) {
    const CheckpointMeta saved = restore_checkpoint(checkpoint_path, *vae, &optimizer, /*restore_rng=*/true, &generator,
                                                    objective->state_module(), objective->state_optimizer());
    start_epoch = saved.epoch;
    if (!saved.last_stats.is_null()) last = epoch_stats_from_json(saved.last_stats);
  }
  if (writer) trim_log(log_path, start_epoch);
  if (parallel) {
    // Every rank must resume from the same checkpoint (the same --out, on a shared file system).
    auto epochs = torch::tensor({start_epoch}, torch::kInt64);  // [1]
    parallel->broadcast_(epochs, 0);
    DVAE_CHECK(epochs.item<int64_t>() == start_epoch, checkpoint_path, ": rank ", rank, " resumes at epoch ",
               start_epoch, " but rank 0 at epoch ", epochs.item<int64_t>(),
               ", expected every rank to see the same --out folder (a shared file system)");
  }

  // The whole training set stays uint8 [N,H,W]; each batch is gathered into
  // preallocated buffers and converted there.
  const torch::Tensor images = data.train.images.to(device).contiguous();  // uint8 [N,H,W]
  const int64_t n = images.size(0);
  const int64_t side = model.image_size;
  const int64_t bs = std::min(train.batch_size, n);
  const int64_t batches = (n + bs - 1) / bs;
  // A rank without rows in the last batch skips its forward pass, hence the
  // all-reduces of batch statistics that the other ranks make there.
  bool batch_norm = false;
  for (const auto& b : vae->named_buffers()) batch_norm = batch_norm || b.key().find("running_mean") != std::string::npos;
  DVAE_CHECK(!batch_norm || world == 1 || n % bs == 0 || n % bs >= world, "--batch-size ", bs, ": the last batch of ",
             n % bs, " of ", n, " training images leaves some of the ", world,
             " ranks without rows, which the model's batch norms (synced over the ranks) cannot skip; expected a "
             "last batch of at least ", world, " images (another --batch-size or --limit-train)");
  const auto on_device = torch::TensorOptions().device(device);
  auto bytes_buffer = torch::empty({bs, side, side}, on_device.dtype(torch::kUInt8));      // [B,H,W]
  auto x_buffer = torch::empty({bs, 1, side, side}, on_device.dtype(torch::kFloat32));     // [B,1,H,W]
  auto target_buffer = torch::empty({bs, 1, side, side}, on_device.dtype(torch::kFloat32));  // [B,1,H,W]
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::unique_ptr<MlpTrainingStep> mlp_step;
  if (use_mlp_step(model, train, device)) mlp_step = std::make_unique<MlpTrainingStep>(*vae, bs);
  // Overlapped all-reduce: each bucket of gradients is summed over the ranks
  // while the backward pass computes the earlier layers' (the hand-written
  // step says when a layer is done; autograd's accumulators, through hooks).
  std::unique_ptr<GradientReducer> reducer;
  GradReady grad_ready;
  if (parallel && world > 1 && parallel->options().overlap) {
    reducer = std::make_unique<GradientReducer>(*parallel, optimizer.flat_grad(), vae->parameters(),
                                                parallel->options().overlap_bucket_values);
    if (mlp_step) {
      grad_ready = [&reducer](const torch::Tensor& grad) { reducer->mark_ready(grad); };
    } else {
      reducer->attach_autograd_hooks();
    }
  }

  for (int64_t epoch = start_epoch + 1; epoch <= train.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    std::iota(order.begin(), order.end(), 0);
    Rng rng(derive_seed(train.seed, {kShuffleStream, static_cast<uint64_t>(epoch)}));
    rng.shuffle(order);
    const auto perm = torch::from_blob(order.data(), {n}, torch::kInt64).to(device);  // [N]
    double recon_sum = 0;
    double kl_sum = 0;
    for (int64_t b = 0; b < batches; ++b) {
      const int64_t len = std::min(bs, n - b * bs);  // rows of the global batch
      const BatchShard mine = batch_shard(len, rank, world);
      StepTerms step;
      std::optional<ObjectiveTerms> terms;
      ObjectiveBatch batch;
      if (reducer) reducer->begin();
      if (mine.count == 0) {
        // No rows here (a last batch smaller than the world): draw what the
        // others draw, so that the generators stay in step, and add nothing.
        if (train.binarize) (void)torch::rand({len, 1, side, side}, generator, torch::kFloat32);
        (void)torch::randn({len, model.latent_dim}, generator, torch::kFloat32);
        optimizer.zero_grad();
      } else {
        auto bytes = bytes_buffer.narrow(0, 0, mine.count);  // [b,H,W]
        torch::index_select_out(bytes, images, 0, perm.narrow(0, b * bs + mine.offset, mine.count));
        auto x = x_buffer.narrow(0, 0, mine.count);          // [b,1,H,W]
        x.copy_(bytes.unsqueeze(1)).div_(255.0f);             // [b,H,W] -> [b,1,H,W] in [0,1]
        if (train.binarize) {
          // Bernoulli(x) as u < x, u ~ U[0,1) drawn on the CPU for the whole global batch: the same on every device.
          const auto u = torch::rand({len, 1, side, side}, generator, torch::kFloat32)
                             .narrow(0, mine.offset, mine.count)
                             .to(device);  // [B,1,H,W] -> [b,1,H,W]
          auto target = target_buffer.narrow(0, 0, mine.count);
          at::lt_out(target, u, x);  // [b,1,H,W] in {0,1}
          x = target;
        }
        if (mlp_step) {
          step = mlp_step->run(x, train.beta, generator, RowSlice{mine.offset, len}, grad_ready);  // overwrites the gradients
        } else {
          // VaeImpl::forward with eps drawn from the run's generator (for the whole global batch).
          const Posterior q = vae->encoder()->encode(x);                                  // -> 2 x [b,D]
          auto eps = torch::randn({len, q.mu.size(1)}, generator, torch::kFloat32);       // [B,D]
          if (mine.count != len) eps = eps.narrow(0, mine.offset, mine.count);           // [B,D] -> [b,D]
          batch.z = q.mu + torch::exp(0.5 * q.logvar) * eps.to(device);                  // [b,D]
          batch.x_logits = vae->decoder()->decode(batch.z);                              // -> [b,1,H,W]
          batch.x = x;
          batch.mu = q.mu;
          batch.logvar = q.logvar;
          batch.step = (epoch - 1) * batches + b;
          terms = objective->loss(batch);
          // This slice's share of the global batch mean (the whole mean in one process).
          const double share = static_cast<double>(mine.count) / static_cast<double>(len);  // b / B
          optimizer.zero_grad();
          (mine.count == len ? terms->loss : terms->loss * share).backward();
          step = {terms->recon.item<double>() * share, terms->kl.item<double>() * share,
                  terms->loss.item<double>() * share};
        }
      }
      DVAE_CHECK(std::isfinite(step.loss), "epoch ", epoch, ", batch ", b + 1, "/", batches, ": loss is ", step.loss,
                 ", expected a finite number; ", checkpoint_path,
                 " keeps the last good epoch (try a lower --lr, then --resume)");
      // Shares of the batch mean -> the mean.
      if (reducer) {
        reducer->finish();
      } else if (parallel) {
        parallel->all_reduce_sum_(optimizer.flat_grad());
      }
      optimizer.step();
      if (terms) objective->after_step(batch, generator);
      recon_sum += step.recon * static_cast<double>(len);
      kl_sum += step.kl * static_cast<double>(len);
      if (callbacks.on_batch) callbacks.on_batch(epoch, b + 1, batches);
    }
    if (parallel) {
      // Every rank's share of the epoch's sums, added once per epoch.
      auto sums = torch::tensor({recon_sum, kl_sum}, torch::kFloat64);  // [2]
      parallel->all_reduce_sum_(sums);
      recon_sum = sums[0].item<double>();
      kl_sum = sums[1].item<double>();
    }
    const double train_seconds = seconds_since(epoch_start);

    // Rank 0 evaluates, logs and checkpoints; the others only train.
    EpochStats stats;
    if (writer) stats = evaluate_vae(*vae, data.test, device, 1000, derive_seed(train.seed, {kEvalStream}));
    stats.epoch = epoch;
    stats.beta = train.beta;
    stats.train_recon = recon_sum / static_cast<double>(n);
    stats.train_kl = kl_sum / static_cast<double>(n);
    stats.images_per_sec = static_cast<double>(n) / train_seconds;
    stats.seconds = seconds_since(epoch_start);

    if (writer) {
      append_line_durable(log_path, epoch_stats_to_json(stats).dump());
      meta.epoch = epoch;
      meta.last_stats = epoch_stats_to_json(stats);
      save_checkpoint(checkpoint_path, *vae, meta, &optimizer, &generator, objective->state_module(),
                      objective->state_optimizer());
    }
    last = stats;
    if (callbacks.on_epoch) callbacks.on_epoch(stats);
  }
  if (parallel) parallel->barrier();  // returns once rank 0 has written the last checkpoint
  return last;
}

}  // namespace dvae
