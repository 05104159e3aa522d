#include "experiments/schedule.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

namespace dvae {

namespace {

// The schedule's model of a job run alone on t threads: its cost / (1 + (t - 1) / 2),
// a second thread adding half a thread's speed (measured 1.3-1.6x for the MLP steps on
// two Zen 3 threads). Only a model: it picks a plan, it never measures one.
double wide_time(double cost, int threads) { return cost / (1.0 + 0.5 * (threads - 1)); }

// Makespan of costs (sorted longest first) list-scheduled on `workers` one-thread workers.
double list_makespan(const std::vector<double>& costs, int workers) {
  std::vector<double> load(static_cast<size_t>(std::max(1, workers)), 0.0);
  for (double c : costs) *std::min_element(load.begin(), load.end()) += c;
  return *std::max_element(load.begin(), load.end());
}

}  // namespace

// Which jobs (indices into costs, sorted longest first) to run first, one at a time
// on all threads, before the rest run side by side on one thread each. A job left
// for last on one worker while the others idle (the paper preset's full-set
// supervised cell after its two VAEs) is the case this catches. Greedy: each round
// widens the job that most shortens the modelled makespan (the cheapest of near
// ties), while that saves at least 5%. Decided from the costs alone, never from
// timings, so a plan always gives each job the same thread count.
std::vector<size_t> wide_jobs(const std::vector<double>& costs, int threads) {
  std::vector<size_t> wide;
  if (threads < 2 || costs.size() < 2) return wide;
  std::vector<bool> taken(costs.size(), false);
  const auto makespan = [&](double ahead, size_t also) {
    std::vector<double> rest;
    for (size_t i = 0; i < costs.size(); ++i) {
      if (!taken[i] && i != also) rest.push_back(costs[i]);
    }
    return ahead + list_makespan(rest, std::min<int>(threads, static_cast<int>(rest.size())));
  };
  double ahead = 0;  // modelled time of the wide jobs already chosen
  double best = makespan(0, costs.size());
  for (;;) {
    std::vector<double> time(costs.size(), 0.0);
    double fastest = 0.95 * best;
    for (size_t i = 0; i < costs.size(); ++i) {
      if (taken[i]) continue;
      time[i] = makespan(ahead + wide_time(costs[i], threads), i);
      fastest = std::min(fastest, time[i]);
    }
    // Of the jobs within 2% of the fastest plan (closer than the model can tell apart),
    // the cheapest: a wide job costs the machine (1 - speedup / threads) of its own
    // cost, so a smaller one risks less where the modelled speedup is optimistic.
    size_t pick = costs.size();
    for (size_t i = 0; i < costs.size(); ++i) {
      const bool candidate = !taken[i] && time[i] < 0.95 * best && time[i] <= 1.02 * fastest;
      if (candidate && (pick == costs.size() || costs[i] <= costs[pick])) pick = i;
    }
    if (pick == costs.size()) return wide;
    const double pick_time = time[pick];
    taken[pick] = true;
    wide.push_back(pick);
    ahead += wide_time(costs[pick], threads);
    best = pick_time;
  }
}

// Runs independent jobs longest first: the wide ones (wide_jobs) one by one on all
// threads, then the rest on min(threads, jobs) workers (one on a GPU), each worker
// with threads / workers intra-op threads. Every unit draws only from its own
// generators, so results equal those of running the jobs one by one with the same
// per-job thread count. Rethrows the first failure after all stop.
void run_parallel(std::vector<Job> jobs, int threads, bool cpu) {
  if (jobs.empty()) return;
  std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.cost > b.cost; });
  if (cpu) {
    std::vector<double> costs;
    for (const auto& j : jobs) costs.push_back(j.cost);
    std::vector<bool> ran(jobs.size(), false);
    at::set_num_threads(threads);
    for (size_t i : wide_jobs(costs, threads)) {
      jobs[i].run();
      ran[i] = true;
    }
    std::vector<Job> rest;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!ran[i]) rest.push_back(std::move(jobs[i]));
    }
    jobs = std::move(rest);
    if (jobs.empty()) return;
  }
  const int workers = cpu ? std::max(1, std::min<int>(threads, static_cast<int>(jobs.size()))) : 1;
  if (workers == 1) {
    for (auto& j : jobs) j.run();
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex gate_mutex;
  std::condition_variable gate;
  int ready = 0;
  std::vector<std::exception_ptr> failures(workers);
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      try {
        {
          // Every worker sets its thread count before any computes.
          std::unique_lock<std::mutex> lock(gate_mutex);
          at::set_num_threads(std::max(1, threads / workers));
          ++ready;
          gate.notify_all();
          gate.wait(lock, [&] { return ready == workers; });
        }
        for (size_t i = next++; i < jobs.size() && !failed; i = next++) jobs[i].run();
      } catch (...) {
        failures[w] = std::current_exception();
        failed = true;
      }
    });
  }
  for (auto& t : pool) t.join();
  for (const auto& f : failures) {
    if (f) std::rethrow_exception(f);
  }
}

}  // namespace dvae
