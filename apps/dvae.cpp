// dvae's entry point: choose the BLAS kernel and OpenMP wait policy (which
// must be in the environment before the libraries load, hence a one-time
// re-exec), parse, dispatch, catch, and turn errors into exit codes.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iomanip>
#include <sstream>
#include <string>
#include <thread>

#include "cli/app.h"
#include "core/check.h"
#include "core/runtime.h"

namespace {

// addmm / (mm + add) above this ratio means spinning workers starve products.
constexpr double kAddmmSlowdownLimit = 2.0;
// A product on all cores taking longer than this times the same product on one
// core means the cores are busy with other work and spinning workers make it
// worse (measured on a 2-vCPU Xeon at load average 16: 2-thread MLP training
// 141 images/s with the default policy; PyTorch-Python 965 with PASSIVE). Not 1.0:
// on a noisy but working 2-core Zen 4 the check read 0.64-1.09 from run to run, and
// PASSIVE there cost the 2-thread MLP step a third (8,650-11,940 images/s against
// 14,400-16,750 with the default policy, interleaved).
constexpr double kAllCoresSlowdownLimit = 1.5;

// Seconds of a [100,500] x [500,500] product (the MLP's hidden layer at batch
// 100) repeated on `threads` threads, best of three rounds.
double product_seconds(int threads) {
  torch::NoGradGuard no_grad;
  const int before = at::get_num_threads();
  at::set_num_threads(threads);
  const auto x = torch::randn({100, 500});
  const auto w = torch::randn({500, 500});
  auto out = torch::empty({100, 500});
  double best = 1e30;
  for (int round = 0; round < 3; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) torch::mm_out(out, x, w);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  at::set_num_threads(before);
  return best;
}

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

// Re-executes dvae once with OPENBLAS_CORETYPE=SkylakeX when the CPU has
// AVX-512 but OpenBLAS runs an older kernel (0.3.21 misidentifies recent
// CPUs), and with OMP_WAIT_POLICY=PASSIVE when the policy is unset and a quick
// check finds small biased products (addmm) on all cores much slower than
// plain ones (spinning OpenMP workers starve them on some 2-vCPU machines;
// where they do not, the default policy is faster: workers wake sooner), or a
// plain product on all cores slower than on one (the cores are taken by other
// work, so spinning workers only steal their time slices). After
// the re-exec, a float64 check of the new kernel decides whether to keep it.
// DVAE_BLAS_KERNEL=keep disables all of this.
void choose_kernel_and_reexec(char** argv) {
  if (std::strcmp(env_or("DVAE_BLAS_KERNEL", ""), "keep") == 0) return;
  const std::string stage = env_or("DVAE_REEXEC", "");
  if (stage == "1") {
    if (std::getenv("DVAE_ORIG_CORETYPE") == nullptr) return;  // kernel untouched
    const double err = dvae::blas_self_check_error();
    if (err < 1e-4) return;
    // The forced kernel disagrees with float64: go back to the default one.
    const std::string orig = env_or("DVAE_ORIG_CORETYPE", "");
    if (orig.empty()) {
      ::unsetenv("OPENBLAS_CORETYPE");
    } else {
      ::setenv("OPENBLAS_CORETYPE", orig.c_str(), 1);
    }
    ::unsetenv("DVAE_ORIG_CORETYPE");
    ::setenv("DVAE_REEXEC", "2", 1);
    ::setenv("DVAE_BLAS_NOTE", ("SkylakeX failed the float64 check (error " + std::to_string(err) +
                                "); kept the default kernel").c_str(), 1);
    ::execv("/proc/self/exe", argv);
    return;
  }
  if (!stage.empty()) return;
  bool change = false;
  std::string note;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && cores >= 2) {
    const double slowdown = dvae::addmm_slowdown(cores);
    std::ostringstream check;
    check << "addmm on " << cores << " threads " << std::fixed << std::setprecision(1) << slowdown
          << "x the time of mm + add: ";
    // Only when addmm looks fine: the same product on all cores against one core.
    const double all_cores = slowdown > kAddmmSlowdownLimit ? 0.0 : product_seconds(cores) / product_seconds(1);
    if (slowdown <= kAddmmSlowdownLimit) {
      check << "mm on " << cores << " threads " << std::setprecision(2) << all_cores << "x the time on 1: ";
    }
    if (slowdown > kAddmmSlowdownLimit || all_cores > kAllCoresSlowdownLimit) {
      ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
      note += check.str() + "OMP_WAIT_POLICY=PASSIVE set by dvae; ";
      change = true;
    } else {
      note += check.str() + "OpenMP's default wait policy kept; ";
    }
  }
  const dvae::CpuInfo cpu = dvae::cpu_info();
  const dvae::BlasInfo blas = dvae::blas_info();
  if (dvae::openblas_kernel_underuses_cpu(cpu, blas)) {
    ::setenv("DVAE_ORIG_CORETYPE", env_or("OPENBLAS_CORETYPE", ""), 1);
    ::setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    note += "OpenBLAS kernel " + blas.core + " -> SkylakeX (AVX-512 CPU), checked against float64";
    change = true;
  } else {
    note += "OpenBLAS kernel " + (blas.core.empty() ? std::string("n/a") : blas.core) + " kept";
  }
  ::setenv("DVAE_BLAS_NOTE", note.c_str(), 1);
  if (!change) return;
  ::setenv("DVAE_REEXEC", "1", 1);
  ::execv("/proc/self/exe", argv);
  // exec failed: carry on with the current libraries.
}

// LibTorch frees and reallocates the same activation-sized blocks every step;
// glibc's defaults hand blocks above 128 KiB back to the kernel (mmap, heap
// trimming), so each step page-faults them in again. Keep them instead.
void keep_freed_memory() {
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest value glibc accepts on 64-bit
  ::mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  choose_kernel_and_reexec(argv);
  keep_freed_memory();
  dvae::cli::GlobalOptions global;
  std::unique_ptr<CLI::App> app;
  try {
    app = dvae::cli::make_app(global);
    app->parse(argc, argv);
    return 0;
  } catch (const CLI::CallForHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app->exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << " (see dvae --help)\n";
    return 2;
  } catch (const dvae::UsageError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
