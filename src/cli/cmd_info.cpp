// `dvae info`: what this build and this machine will compute with.
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "core/cpu_dispatch.h"
#include "core/gemm.h"
#include "core/runtime.h"
#include "core/torch_compat.h"
#include "dvae/version.h"

namespace dvae::cli {

void add_info_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("info", "print LibTorch and BLAS versions, kernel, threads, CPU features, CUDA");
  auto bench = std::make_shared<bool>(false);
  cmd->add_flag("--sgemm", *bench, "also measure the sgemm rate (1024^3) on the configured threads");
  cmd->callback([&global, bench]() {
    configure_runtime(global);
    const CpuInfo cpu = cpu_info();
    const BlasInfo blas = blas_info();
    auto env = [](const char* name) {
      const char* v = std::getenv(name);
      return std::string(v ? v : "(unset)");
    };
    std::string gemm_why;
    std::cout << "dvae           " << kVersion << "\n"
              << "libtorch       " << compat::torch_version() << "\n"
              << "cpu            " << cpu.model_name << " (" << cpu.vendor << ", family " << cpu.family
              << " model " << cpu.model << ")\n"
              << "cpu features   avx2=" << (cpu.avx2 ? "yes" : "no") << " avx512f=" << (cpu.avx512f ? "yes" : "no")
              << " avx512vl=" << (cpu.avx512vl ? "yes" : "no")
              << " avx512_bf16=" << (cpu.avx512_bf16 ? "yes" : "no") << " amx=" << (cpu.amx ? "yes" : "no") << "\n"
              << "blas library   " << blas.library << "\n"
              << "blas vendor    " << blas.vendor << "\n";
    if (!blas.core.empty()) std::cout << "blas kernel    " << blas.core << "\n";
    if (!blas.config.empty()) std::cout << "blas config    " << blas.config << "\n";
    std::cout << "blas check     max relative error " << blas_self_check_error() << " against float64\n"
              << "threads        torch intra-op " << torch::get_num_threads() << ", inter-op "
              << torch::get_num_interop_threads() << ", blas " << blas.threads << ", cores "
              << std::thread::hardware_concurrency() << "; dvae's own parallel loops on "
              << parallel_for_threads_used(torch::get_num_threads()) << " of " << torch::get_num_threads() << "\n"
              << "OMP_WAIT_POLICY " << env("OMP_WAIT_POLICY") << "\n"
              << "OPENBLAS_CORETYPE " << env("OPENBLAS_CORETYPE") << "\n"
              << "kernel choice  " << env("DVAE_BLAS_NOTE") << "\n"
              << "kernel path    " << kernel_path_name(kernel_path()) << " (best this CPU runs: "
              << kernel_path_name(best_kernel_path(cpu)) << "; DVAE_KERNEL_PATH " << env("DVAE_KERNEL_PATH") << ")\n"
              << "  fused Adam/SGD (training/flat_optimizer)     " << kernel_path_name(kernel_path()) << "\n"
              << "  MLP step elementwise (training/mlp_kernels)  " << kernel_path_name(kernel_path()) << "\n"
              << "  probe heads (evaluation/probe)               " << kernel_path_name(kernel_path()) << "\n"
              << "  transposed conv col2im (models/conv_transpose) " << kernel_path_name(kernel_path())
              << (at::hasMKLDNN() ? " (unused: this LibTorch has oneDNN, so the adjoint path runs)" : "") << "\n"
              << "gemm           " << gemm_backend_name(gemm_backend()) << " for the MLP steps' matrix products (rule: "
              << gemm_backend_name(default_gemm_backend(cpu, &gemm_why)) << ", " << gemm_why << "; DVAE_GEMM "
              << env("DVAE_GEMM") << (onednn_available() ? "" : "; this build has no oneDNN") << ")\n"
              << "cuda           " << (compat::cuda_usable() ? "usable" : "not usable") << "\n"
              << "device         " << resolve_device(global.device).str() << "\n";
    if (*bench) std::cout << "sgemm 1024     " << sgemm_gflops(1024, 20) << " GFLOP/s\n";
  });
}

}  // namespace dvae::cli
