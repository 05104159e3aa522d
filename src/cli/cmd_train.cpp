// `dvae train`: trains one VAE (paper section 4.2; --objective picks beta-vae
// or a disentangling variant, training/objectives.h) into a run folder,
// resumable with --resume, holding the folder's lock (experiments/run_lock.h). Progress: a bar with ETA on a terminal, one line
// per epoch otherwise, nothing with --quiet.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <thread>
#include <sstream>

#include "cli/commands.h"
#include "cli/dist_launch.h"
#include "cli/flag_checks.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/runtime.h"
#include "data/datasets.h"
#include "experiments/run_lock.h"
#include "training/distributed.h"
#include "training/vae_trainer.h"

namespace dvae::cli {
namespace {

struct TrainArgs {
  std::string objective = "beta-vae";  // --objective
  std::map<std::string, double> parameters;  // --gamma, --c-min, ...: the objective parameters given
  std::string arch = "mlp";        // --arch
  double beta = -1;                // --beta (< 0: the arch's default)
  int64_t epochs = 0;              // --epochs (0: the arch's default)
  int64_t latent = 10;             // --latent
  int64_t hidden = 500;            // --hidden (MLP)
  std::string activation = "softplus";  // --activation (MLP)
  int64_t fc = 1024;               // --fc (CNN)
  double lr = 1e-3;                // --lr
  int64_t batch_size = 100;        // --batch-size
  std::string optimizer = "adam";  // --optimizer
  double momentum = 0.9;           // --momentum
  bool binarize = false;           // --binarize
  bool autograd = false;           // --autograd
  uint64_t seed = 1;               // --seed
  std::string dataset = "mnist";   // --dataset
  std::string data_dir;            // --data-dir
  std::string out;                 // --out
  bool resume = false;             // --resume
  int64_t limit_train = 0;         // --limit-train (0: all)
  int64_t limit_test = 0;          // --limit-test (0: all)
  int nproc = 1;                   // --nproc (local data-parallel ranks)
  std::string dist_backend = "gloo";  // --dist-backend
  double dist_timeout = 300;       // --dist-timeout (seconds)
  std::string dist_overlap = "on";  // --dist-overlap (on | off)
};

std::string clock_text(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds));
  std::ostringstream out;
  out << std::setfill('0');
  if (s >= 3600) out << s / 3600 << ":" << std::setw(2);
  out << (s / 60) % 60 << ":" << std::setw(2) << s % 60;
  return out.str();
}

std::string epoch_line(const EpochStats& s, int64_t epochs) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << "epoch " << s.epoch << "/" << epochs << "  train recon "
      << s.train_recon << " kl " << s.train_kl << "  test recon " << s.test_recon << " kl " << s.test_kl << " elbo "
      << s.test_elbo << "  active " << s.active_latents << "/" << s.kl_per_latent.size() << "  "
      << std::setprecision(1) << s.seconds << " s, " << std::setprecision(0) << s.images_per_sec << " img/s";
  return out.str();
}

ImageSet first(const ImageSet& set, int64_t n) {
  if (n <= 0 || n >= set.size()) return set;
  return set.subset(torch::arange(n));
}

// The data-parallel group of a process started by a launcher (config), after
// the rendezvous (rank 0 hosts the store); none without launcher variables.
std::unique_ptr<DataParallel> join_group(const std::optional<DistConfig>& config, const TrainArgs& args) {
  if (!config) return nullptr;
  DistOptions options;
  options.backend = args.dist_backend;
  options.timeout_s = args.dist_timeout;
  options.overlap = args.dist_overlap == "on";
  return std::make_unique<DataParallel>(*config, options);
}

// "c_max" -> "--c-max".
std::string flag_of(const std::string& parameter) {
  std::string f = "--" + parameter;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

// The objectives that use parameter, comma separated.
std::string users_of(const std::string& parameter) {
  std::string s;
  for (const auto& o : objectives())
    if (o.uses(parameter)) s += (s.empty() ? "" : ", ") + o.name;
  return s;
}

// The objective's settings from its defaults and the flags given; a flag of a
// parameter the objective does not use is a usage error naming both.
ObjectiveSettings objective_settings(const TrainArgs& args) {
  const Objective& objective = find_objective(args.objective);
  DVAE_CHECK_USAGE(args.beta < 0 || objective.uses("beta"), "--beta: not used by --objective ", args.objective,
                   ", expected it only with ", users_of("beta"));
  ObjectiveSettings s = default_objective_settings(args.objective);
  for (const auto& [p, v] : args.parameters) {
    DVAE_CHECK_USAGE(objective.uses(p), flag_of(p), ": not used by --objective ", args.objective,
                     ", expected it only with ", users_of(p));
    const ParameterRange range = objective_parameter_range(p);
    set_objective_parameter(s, p, range.integer ? nlohmann::json(static_cast<int64_t>(v)) : nlohmann::json(v),
                            flag_of(p));
  }
  DVAE_CHECK_USAGE(!objective.uses("c_max") || s.c_min <= s.c_max, "--c-min: ", s.c_min, " above --c-max ",
                   s.c_max, ", expected c_min <= c_max");
  return s;
}

void run_train(const TrainArgs& args, GlobalOptions global) {
  DVAE_CHECK_USAGE(!args.out.empty(), "--out: missing, expected the run folder to write");
  const ObjectiveSettings objective = objective_settings(args);
  DVAE_CHECK_USAGE(args.limit_train >= 0 && args.limit_test >= 0, "--limit-train/--limit-test: negative, expected >= 0");
  const auto env = dist_environment();
  std::optional<DistConfig> dist;
  try {
    check_dist_options({args.dist_backend, args.dist_timeout});
    if (dist_env_present(env)) dist = dist_config_from_env(env);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  if (args.nproc > 1) {
    DVAE_CHECK_USAGE(!dist_env_present(env), "--nproc ", args.nproc, ": WORLD_SIZE=", env.at("WORLD_SIZE"),
                     " is already set (a launcher started dvae), expected either --nproc or a launcher");
    // Each rank gets an even share of the cores unless --threads says otherwise.
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    launch_local(args.nproc, child_command_line(own_command_line(), std::max(1, cores / args.nproc)));
    return;
  }
  configure_runtime(global);
  const torch::Device device = resolve_device(global.device);
  const bool main_rank = !dist || dist->rank == 0;
  if (!main_rank) global.quiet = true;  // rank 0 reports for all
  // A second train (or classify) on this folder would interleave log lines and
  // overwrite the checkpoint under the first: refuse it while this one runs.
  // Rank 0 alone writes the folder, so rank 0 holds the lock, taken before
  // the rendezvous so that a busy folder is the first error of a job.
  std::optional<RunLock> lock;
  if (main_rank) {
    lock.emplace(args.out);
    remove_stale_temporaries(args.out);  // of checkpoints a killed run left half written
  }
  const std::unique_ptr<DataParallel> group = join_group(dist, args);

  Dataset data = args.data_dir.empty() ? load_dataset(args.dataset, data_root(global)) : load_dataset_dir(args.data_dir);
  data.train = first(data.train, args.limit_train);
  data.test = first(data.test, args.limit_test);
  DVAE_CHECK(data.train.rows() == data.train.cols(), data.dir, ": images are ", data.train.rows(), "x",
             data.train.cols(), ", expected square images");

  ModelOptions model;
  model.arch = args.arch;
  model.latent_dim = args.latent;
  model.image_size = data.train.rows();
  model.mlp_hidden = args.hidden;
  model.mlp_activation = args.activation;
  model.cnn_fc = args.fc;

  TrainOptions train = default_train_options(args.arch);
  train.objective = objective;
  if (!find_objective(objective.name).uses("beta")) train.beta = 1.0;
  if (args.beta >= 0) train.beta = args.beta;
  if (args.epochs > 0) train.epochs = args.epochs;
  train.lr = args.lr;
  train.batch_size = args.batch_size;
  train.optimizer = args.optimizer;
  train.momentum = args.momentum;
  train.binarize = args.binarize;
  train.autograd = args.autograd;
  train.seed = args.seed;

  if (!global.quiet) {
    std::cout << "training " << model.arch << " VAE, objective " << objective.name;
    if (find_objective(objective.name).uses("beta")) std::cout << ", beta " << train.beta;
    for (const auto& p : find_objective(objective.name).parameters)
      if (p != "beta") std::cout << ", " << p << " " << objective_parameter(objective, p).dump();
    std::cout << ", " << model.latent_dim << " latents, "
              << train.epochs << " epochs on " << data.name << " (" << data.train.size() << " train, "
              << data.test.size() << " test images), " << train.optimizer << " lr " << train.lr << ", batch "
              << train.batch_size << ", seed " << train.seed << ", device " << device.str() << ", threads "
              << torch::get_num_threads();
    if (group) std::cout << ", " << group->world_size() << " ranks (" << group->backend() << ")";
    std::cout << std::endl;
  }

  TrainCallbacks callbacks;
  const bool bar = interactive(global);
  const auto start = std::chrono::steady_clock::now();
  int64_t first_epoch = -1;
  if (bar) {
    callbacks.on_batch = [&, last_draw = std::chrono::steady_clock::time_point{}](int64_t epoch, int64_t batch,
                                                                                   int64_t batches) mutable {
      const auto now = std::chrono::steady_clock::now();
      if (batch != batches && now - last_draw < std::chrono::milliseconds(200)) return;
      last_draw = now;
      if (first_epoch < 0) first_epoch = epoch;
      const double done = static_cast<double>((epoch - first_epoch) * batches + batch);
      const double total = static_cast<double>((train.epochs - first_epoch + 1) * batches);
      const double elapsed = std::chrono::duration<double>(now - start).count();
      const int width = 30;
      const int filled = static_cast<int>(width * batch / batches);
      std::cerr << "\repoch " << epoch << "/" << train.epochs << " [" << std::string(filled, '#')
                << std::string(width - filled, '.') << "] " << batch << "/" << batches << "  ETA "
                << clock_text(elapsed / done * (total - done)) << "   " << std::flush;
    };
  }
  if (!global.quiet) {
    callbacks.on_epoch = [&](const EpochStats& s) {
      if (bar) std::cerr << "\r\033[K" << std::flush;
      std::cout << epoch_line(s, train.epochs) << std::endl;
    };
  }
  const EpochStats last = train_vae(data, model, train, args.out, args.resume, device, callbacks, group.get());
  if (!global.quiet) {
    std::cout << "done: epoch " << last.epoch << ", test ELBO " << std::fixed << std::setprecision(2)
              << last.test_elbo << " nats, KL " << last.test_kl << ", " << last.active_latents
              << " active latents; checkpoint " << args.out << "/checkpoint.pt" << std::endl;
  }
}

}  // namespace

void add_train_command(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "train a VAE (MLP or CNN, beta-VAE or another objective) into a run folder; "
                                          "--resume continues it");
  std::vector<std::string> objective_names;
  for (const auto& o : objectives()) objective_names.push_back(o.name);
  cmd->add_option("--objective", args->objective, "objective: " + objective_names_text() + " (README: Objectives)")
      ->check(CLI::IsMember(objective_names))
      ->capture_default_str();
  cmd->add_option("--arch", args->arch, "architecture: mlp | cnn")
      ->check(CLI::IsMember(registered_archs()))
      ->capture_default_str();
  cmd->add_option("--beta", args->beta,
                  "beta-vae: KL weight (default: 4 for mlp, 6 for cnn; 1 = standard VAE); beta-tcvae: TC weight")
      ->check(real_in(0, 1e6));
  const ObjectiveSettings annealed = default_objective_settings("annealed-vae");
  const ObjectiveSettings factor = default_objective_settings("factor-vae");
  const std::map<std::string, std::string> help = {
      {"gamma", "annealed-vae: weight of |KL - C| (default " + objective_parameter(annealed, "gamma").dump() +
                    "); factor-vae: TC weight (default " + objective_parameter(factor, "gamma").dump() + ")"},
      {"c_min", "annealed-vae: capacity C at step 0, nats (default 0)"},
      {"c_max", "annealed-vae: capacity C reached at --capacity-iterations, nats (default 25)"},
      {"capacity_iterations", "annealed-vae: steps over which C rises linearly (default 100000)"},
      {"disc_hidden", "factor-vae: discriminator hidden width (default 1000)"},
      {"disc_layers", "factor-vae: discriminator hidden layers (default 6)"},
      {"disc_lr", "factor-vae: discriminator Adam learning rate (default 1e-4; betas 0.5, 0.9)"}};
  for (const auto& p : objective_parameter_names()) {
    const ParameterRange r = objective_parameter_range(p);
    auto* opt = cmd->add_option_function<double>(
        flag_of(p), [args, p](double v) { args->parameters[p] = v; }, help.at(p));
    if (r.integer) {
      opt->type_name("INT")->check(int_in(static_cast<int64_t>(r.lo), static_cast<int64_t>(r.hi)));
    } else {
      opt->check(real_in(r.lo, r.hi, r.open_lo));
    }
  }
  cmd->add_option("--epochs", args->epochs, "epochs (default: 50 for mlp, 75 for cnn)")->check(int_in(1, 100000));
  cmd->add_option("--latent", args->latent, "latent units")->capture_default_str()->check(int_in(1, 4096));
  cmd->add_option("--hidden", args->hidden, "MLP hidden width")->capture_default_str()->check(int_in(1, 65536));
  cmd->add_option("--activation", args->activation, "MLP hidden activation: softplus | relu | tanh")
      ->capture_default_str();
  cmd->add_option("--fc", args->fc, "CNN fully connected width")->capture_default_str()->check(int_in(1, 65536));
  cmd->add_option("--lr", args->lr, "learning rate")->capture_default_str()->check(real_in(0, 10, true));
  cmd->add_option("--batch-size", args->batch_size, "images per step")
      ->capture_default_str()
      ->check(int_in(1, 1000000));
  cmd->add_option("--optimizer", args->optimizer, "adam | sgd")->capture_default_str();
  cmd->add_option("--momentum", args->momentum, "SGD momentum")->capture_default_str()->check(real_in(0, 1));
  cmd->add_flag("--binarize", args->binarize, "dynamically binarise images (Bernoulli of the grey level)");
  cmd->add_flag("--autograd", args->autograd,
                "train the MLP through LibTorch autograd instead of dvae's hand-written step (slower; for checking)");
  cmd->add_option("--seed", args->seed, "seed of initialisation, shuffles and sampling")
      ->capture_default_str()
      ->check(int_in(0, kMaxSeed));
  auto* dataset = cmd->add_option("--dataset", args->dataset, "registered data set name")->capture_default_str();
  cmd->add_option("--data-dir", args->data_dir, "folder with the four IDX files (instead of --dataset)")
      ->excludes(dataset);
  cmd->add_option("--out", args->out, "run folder (config.json, log.jsonl, checkpoint.pt)")->required();
  cmd->add_flag("--resume", args->resume, "continue the run in --out from its checkpoint");
  cmd->add_option("--limit-train", args->limit_train, "use only the first N training images (quick runs)")
      ->check(int_in(0, int64_t{1} << 40));
  cmd->add_option("--limit-test", args->limit_test, "use only the first N test images (quick runs)")
      ->check(int_in(0, int64_t{1} << 40));
  cmd->add_option("--nproc", args->nproc,
                  "data-parallel: start N local ranks on 127.0.0.1 (--batch-size stays the global batch); "
                  "under torchrun/srun set RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT instead")
      ->capture_default_str()
      ->check(int_in(1, 256));
  cmd->add_option("--dist-backend", args->dist_backend, "data-parallel backend: gloo (CPU) | nccl (CUDA builds)")
      ->capture_default_str();
  cmd->add_option("--dist-timeout", args->dist_timeout,
                  "data-parallel: seconds a rendezvous or all-reduce waits for the other ranks")
      ->capture_default_str()
      ->check(real_in(0, 86400, true));
  cmd->add_option("--dist-overlap", args->dist_overlap,
                  "data-parallel: all-reduce gradient buckets during the backward pass (on) or after it (off); "
                  "the same result either way")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            return text == "on" || text == "off" ? std::string() : "'" + text + "', expected on or off";
          },
          "on|off"));
  cmd->callback([args, &global]() { run_train(*args, global); });
}

}  // namespace dvae::cli
