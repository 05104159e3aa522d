// The study's scheduler: independent jobs (VAE trainings, supervised cells) on a
// CPU's threads. Which job runs with how many threads is decided from the plan's
// costs alone, never from timings, so the same plan gives every job the same thread
// count and so the same numbers.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace dvae {

/// One unit of work and its modelled cost (images through a step, weighted per step).
struct Job {
  double cost = 0;
  std::function<void()> run;
};

/// The jobs (indices into `costs`, sorted longest first) to run first, one at a time on
/// all `threads`, because running them side by side with the rest would leave threads
/// idle at the end (see schedule.cpp for the model). Empty when threads < 2.
std::vector<size_t> wide_jobs(const std::vector<double>& costs, int threads);

/// Runs the jobs longest first: the wide_jobs one by one on all threads, then the rest
/// side by side on min(threads, jobs) workers (one when !cpu) with threads / workers
/// intra-op threads each. Rethrows the first failure after every worker has stopped.
void run_parallel(std::vector<Job> jobs, int threads, bool cpu);

}  // namespace dvae
