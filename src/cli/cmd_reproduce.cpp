// `dvae reproduce`: the whole paper in one resumable command.
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "core/check.h"
#include "core/runtime.h"
#include "core/torch_compat.h"
#include "dvae/version.h"
#include "experiments/reproduce.h"

namespace dvae::cli {

namespace {

nlohmann::json environment_json(const torch::Device& device) {
  const CpuInfo cpu = cpu_info();
  const BlasInfo blas = blas_info();
  const char* wait = std::getenv("OMP_WAIT_POLICY");
  return {{"dvae", kVersion},
          {"libtorch", compat::torch_version()},
          {"cpu", cpu.model_name},
          {"cores", std::thread::hardware_concurrency()},
          {"blas", blas.vendor + (blas.core.empty() ? "" : " (" + blas.core + " kernel)") + " " + blas.library},
          {"threads", torch::get_num_threads()},
          {"OMP_WAIT_POLICY", wait ? wait : "(unset)"},
          {"device", device.str()}};
}

}  // namespace

void add_reproduce_command(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string preset = "quick";
    std::string config_file;
    std::vector<std::string> archs;
    std::string dataset;
    std::string out = "runs/reproduce";
    bool force = false;
    int64_t seed = -1;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "reproduce",
      "train both VAEs per architecture, run the few-label grid with the supervised baseline, draw every figure and "
      "write OUT/report/index.html; rerunning resumes");
  cmd->add_option("--preset", args->preset, "quick (about 6 minutes on 2 cores) | paper (the paper's settings)")
      ->capture_default_str();
  cmd->add_option("--config", args->config_file,
                  "TOML file overriding any setting (keys: mlp_epochs, cnn_epochs, mlp_beta, cnn_beta, sizes, "
                  "trials_small, trials_large, probe_epochs, supervised_epochs, hidden, with_logvar, seed, ...)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--arch", args->archs, "architectures, comma separated (default mlp,cnn)")->delimiter(',');
  cmd->add_option("--dataset", args->dataset, "data set name or folder (default mnist)");
  cmd->add_option("--out", args->out, "output folder")->capture_default_str();
  cmd->add_option("--seed", args->seed, "base seed (default 1)");
  cmd->add_flag("--force", args->force, "redo finished units instead of skipping them");
  cmd->callback([&global, args]() {
    configure_runtime(global);
    ReproduceConfig config = preset_config(args->preset);
    if (!args->config_file.empty()) apply_toml_overrides(config, args->config_file);
    if (!args->archs.empty()) config.archs = args->archs;
    if (!args->dataset.empty()) config.dataset = args->dataset;
    if (args->seed >= 0) config.seed = static_cast<uint64_t>(args->seed);
    ReproduceContext ctx;
    ctx.out_dir = args->out;
    ctx.data_root = data_root(global);
    ctx.device = resolve_device(global.device);
    ctx.force = args->force;
    ctx.environment = environment_json(ctx.device);
    if (!global.quiet) ctx.log = [](const std::string& line) { std::cerr << line << std::endl; };
    const ReproduceOutcome outcome = reproduce(config, ctx);
    std::cout << "report: " << outcome.report_html << "\n"
              << "markdown: " << outcome.report_md << "\n"
              << "units computed: " << outcome.units_run << ", skipped (already done): " << outcome.units_skipped
              << ", wall time " << outcome.seconds << " s\n";
  });
}

}  // namespace dvae::cli
