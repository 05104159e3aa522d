// Tests for the study scheduler: which jobs run wide (all threads) and with how many
// threads each job runs.
#include "experiments/schedule.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

namespace dvae {

TEST(Schedule, PaperPresetRunsItsFullSetSupervisedCellWideBeforeTheTwoVaes) {
  // Costs as plan_study weighs the MLP paper preset: two VAEs (60,000 images x 50
  // epochs), the full-set supervised cell (x 100 epochs x 0.45 + 2,000) and the cells
  // of n = 1000 (1 trial), 100, 10, 5, 3, 1 (5 trials). Widening a VAE instead models
  // within 1% of it: the near tie goes to the cheaper job.
  const std::vector<double> costs = {3.0e6, 3.0e6, 2.702e6, 4.52e5, 2.27e5, 2.45e4, 1.325e4, 8.75e3, 4.25e3};
  EXPECT_EQ(wide_jobs(costs, 2), (std::vector<size_t>{2}));
}

TEST(Schedule, BalancedJobsAllRunSideBySide) {
  EXPECT_TRUE(wide_jobs({1.0, 1.0, 1.0, 1.0}, 2).empty());
  EXPECT_TRUE(wide_jobs({3.0e6, 3.0e6, 2.0e4}, 2).empty());  // two VAEs alone: one thread each
  EXPECT_TRUE(wide_jobs({5.0, 4.0, 3.0, 3.0, 1.0}, 4).empty());
}

TEST(Schedule, OneThreadOrOneJobNeverRunsWide) {
  EXPECT_TRUE(wide_jobs({10.0, 1.0, 1.0}, 1).empty());
  EXPECT_TRUE(wide_jobs({10.0}, 2).empty());
  EXPECT_TRUE(wide_jobs({}, 2).empty());
}

TEST(Schedule, AJobLongerThanAllOthersTogetherRunsWide) {
  EXPECT_EQ(wide_jobs({10.0, 1.0, 1.0, 1.0, 1.0}, 2), (std::vector<size_t>{0}));
}

TEST(Schedule, WideJobsFollowThePlanNotTheOrderOfEqualCosts) {
  // The same costs always give the same choice.
  const std::vector<double> costs = {3.0e6, 3.0e6, 2.7e6, 100.0};
  EXPECT_EQ(wide_jobs(costs, 2), wide_jobs(costs, 2));
}

TEST(Schedule, WideJobsGetEveryThreadAndTheRestOneEach) {
  const int saved = at::get_num_threads();
  std::mutex m;
  std::map<std::string, int> seen;
  std::vector<std::string> order;
  const auto job = [&](const std::string& name, double cost) {
    return Job{cost, [&, name] {
                 std::lock_guard<std::mutex> lock(m);
                 seen[name] = at::get_num_threads();
                 order.push_back(name);
               }};
  };
  run_parallel({job("vae-a", 3.0e6), job("vae-b", 3.0e6), job("sup-all", 2.7e6), job("sup-1", 1.0e4)}, 2, true);
  EXPECT_EQ(seen.at("sup-all"), 2);
  EXPECT_EQ(seen.at("vae-a"), 1);
  EXPECT_EQ(seen.at("vae-b"), 1);
  EXPECT_EQ(seen.at("sup-1"), 1);
  ASSERT_FALSE(order.empty());
  EXPECT_EQ(order.front(), "sup-all");
  at::set_num_threads(saved);
}

TEST(Schedule, AFailingWideJobStopsTheRunWithItsError) {
  bool later_ran = false;
  std::vector<Job> jobs = {{10.0, [] { throw std::runtime_error("wide failed"); }},
                           {1.0, [&] { later_ran = true; }},
                           {1.0, [&] { later_ran = true; }}};
  EXPECT_THROW(run_parallel(std::move(jobs), 2, true), std::runtime_error);
  EXPECT_FALSE(later_ran);
}

TEST(Schedule, OnAGpuJobsRunOneAfterTheOther) {
  std::vector<std::string> order;
  run_parallel({{1.0, [&] { order.push_back("short"); }}, {5.0, [&] { order.push_back("long"); }}}, 2, false);
  EXPECT_EQ(order, (std::vector<std::string>{"long", "short"}));
}

}  // namespace dvae
