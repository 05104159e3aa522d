// One function per subcommand file: each adds its subcommand to the app.
// Adding a subcommand means one new cmd_*.cpp and one line here and in app.cpp.
#pragma once

#include "cli/app.h"

namespace dvae::cli {

/// `dvae info`: versions, BLAS kernel, threads, CPU features, CUDA.
void add_info_command(CLI::App& app, GlobalOptions& global);

}  // namespace dvae::cli
