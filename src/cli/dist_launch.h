// Data-parallel launch from the command line: `dvae train --nproc N` starts N
// local copies of dvae with torchrun's variables (RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT = a free
// port), waits for all, and on the first failure stops the others and
// reports it; under torchrun --no-python, srun or a PyTorchJob the variables
// come from the launcher instead. The only code that reads them (training/
// distributed.h gets them as a map). Not a scheduler: one machine, one job.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace dvae::cli {

/// The launcher variables of this process's environment (those that are set).
std::map<std::string, std::string> dist_environment();

/// This process's command line (from /proc/self/cmdline).
std::vector<std::string> own_command_line();

/// args without "--nproc N" / "--nproc=N", plus "--threads K" when threads > 0
/// and args set no --threads of their own.
std::vector<std::string> child_command_line(std::vector<std::string> args, int threads);

/// Runs nproc copies of this executable with args (args[0] is the program
/// name) and the variables above; returns when all have exited. Throws
/// dvae::Error naming the first rank that failed, its pid and its exit status
/// or signal, after terminating the others (SIGTERM, then SIGKILL after 5 s).
void launch_local(int nproc, const std::vector<std::string>& args);

}  // namespace dvae::cli
