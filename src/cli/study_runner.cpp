// Shared by cmd_study.cpp and cmd_reproduce.cpp.
#include "cli/study_runner.h"

#include <cstdlib>
#include <iostream>
#include <thread>

#include "core/cpu_dispatch.h"
#include "core/gemm.h"
#include "core/runtime.h"
#include "core/torch_compat.h"
#include "dvae/version.h"

namespace dvae::cli {

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
          {"kernel_path", kernel_path_name(kernel_path())},
          {"gemm", gemm_backend_name(gemm_backend())},
          {"OMP_WAIT_POLICY", wait ? wait : "(unset)"},
          {"device", device.str()}};
}

void run_study_command(const StudySpec& spec, const std::string& out, bool force, const GlobalOptions& global,
                       const ShardSpec& shard, const std::string& spec_toml, bool lock_held) {
  StudyContext ctx;
  ctx.out_dir = out;
  ctx.data_root = data_root(global);
  ctx.device = resolve_device(global.device);
  ctx.force = force;
  ctx.environment = environment_json(ctx.device);
  ctx.shard = shard;
  ctx.spec_toml = spec_toml;
  ctx.lock_held = lock_held;
  if (!global.quiet) ctx.log = [](const std::string& line) { std::cerr << line << std::endl; };
  const StudyOutcome outcome = run_study(spec, ctx);
  if (shard.count > 1) {
    std::cout << "shard " << shard.index << "/" << shard.count << " done: " << out << "/shard.json; units computed: "
              << outcome.units_run << ", skipped (already done): " << outcome.units_skipped << ", wall time "
              << outcome.seconds << " s; merge all shards with dvae study merge\n";
    return;
  }
  std::cout << "report: " << outcome.report_html << "\n"
            << "markdown: " << outcome.report_md << "\n"
            << "units computed: " << outcome.units_run << ", skipped (already done): " << outcome.units_skipped
            << ", wall time " << outcome.seconds << " s\n";
}

}  // namespace dvae::cli
