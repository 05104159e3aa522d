// Claims a study tests, and the rules that turn paired comparisons into a
// verdict: supported, contradicted or inconclusive. A registry of claim kinds
// (one function plus one line in claims.cpp each):
//   beats     every a beats every b on the metric in every covered cell
//   order     models[0] beats models[1] beats ... (the same rule, pair by pair)
//   matches   every a is within +-margin of every b (two one-sided tests, TOST)
//   collapse  the fraction of a model's latents with test KL < 0.01 nats lies in
//             [min_fraction, max_fraction] for every trained VAE of it
//   gap       the difference a - b is larger on archs[0] than on archs[1]
//             (Welch's t-test on the two architectures' per-seed differences)
// The rules, stated in the report next to the verdicts:
//   beats/order: supported when every test the claim covers has the claimed sign
//   and a Holm-corrected two-sided paired t-test p < 0.05; contradicted when any
//   test is significant (corrected p < 0.05) the other way; else inconclusive.
//   Under pure noise a verdict other than inconclusive comes out at most 5% of
//   the time (Holm controls the family-wise error), tested in the suite.
//   gap: the sign rule, with Welch's two-sample test in place of the paired one.
//   matches: supported when every test's corrected TOST p < 0.05; contradicted
//   when any corrected p of "|difference| > margin" is < 0.05; else inconclusive.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "evaluation/protocol.h"

namespace dvae {

struct ClaimSpec;

/// A trained VAE as the collapse claim sees it.
struct VaeOutcome {
  std::string dataset;               ///< data set name
  std::string arch;                  ///< architecture
  std::string model;                 ///< model name
  int64_t vae_seed = 0;              ///< seed index
  double beta = 1.0;                 ///< KL weight
  std::vector<double> kl_per_latent; ///< test KL per latent (nats)
};

/// One test behind a claim (a forest-plot line).
struct ClaimTest {
  std::string dataset, arch;  ///< cell
  int64_t n = 0;              ///< labels per class (-1 = all)
  std::string label;          ///< "a - b" or "model (VAE seed s)"
  PairedSummary comparison;   ///< the paired comparison (mean, interval, p, units)
  double p_test = 1.0;        ///< the p-value the claim's rule uses (paired t-test; TOST for matches)
  double p_adjusted = 1.0;    ///< Holm-corrected p_test over the claim's tests
  bool claimed_sign = false;  ///< the difference has the sign the claim states
};

/// What a study says about one claim.
struct ClaimResult {
  std::string kind;                ///< claim kind
  std::string statement;           ///< in words
  std::string verdict;             ///< "supported" | "contradicted" | "inconclusive" | "not tested"
  std::string rule;                ///< the rule in one sentence
  std::string basis;               ///< what stands behind it ("5 VAE seeds x 5 label trials", ...)
  std::string evidence;            ///< the numbers, as text
  std::string metric = "accuracy"; ///< compared metric
  bool indicative = false;         ///< verdict labelled indicative (quick preset, or one VAE seed)
  std::vector<ClaimTest> tests;    ///< one per compared cell and pair
};

/// Everything a claim is evaluated on.
struct ClaimInputs {
  const std::vector<ResultRow>& rows;       ///< every classifier row of the study
  const std::vector<VaeOutcome>& vaes;      ///< every trained VAE
  std::vector<std::string> datasets;        ///< the study's data set names (as in rows)
  std::vector<std::string> archs;           ///< the study's architectures
  std::vector<int64_t> sizes;               ///< the study's sizes
  bool indicative = false;                  ///< the study is marked indicative
};

/// Evaluates one claim (dispatching on its kind).
ClaimResult evaluate_claim(const ClaimSpec& claim, const ClaimInputs& inputs);

/// Checks a claim's kind and fields, and that its names are among series; throws UsageError naming where.
void validate_claim(const ClaimSpec& claim, const std::set<std::string>& series, const std::string& where);

/// The registered kinds, comma separated.
std::string claim_kind_names();

/// Every kind's rule, one paragraph (for `dvae study keys` and the README).
std::string claim_rules_text();

/// The verdict rule of the beats/order kinds applied to tests (exposed for the noise test).
std::string sign_rule_verdict(std::vector<ClaimTest>& tests, double alpha = 0.05);

}  // namespace dvae
