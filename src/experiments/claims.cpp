// Claim kinds and their verdict rules (see claims.h).
#include "experiments/claims.h"

#include <algorithm>
#include <functional>
#include <iomanip>
#include <map>
#include <sstream>

#include "core/check.h"
#include "evaluation/statistics.h"
#include "experiments/study_spec.h"

namespace dvae {

namespace {

constexpr double kAlpha = 0.05;
constexpr double kCollapsedKl = 0.01;

std::string claim_n(int64_t n) { return n < 0 ? "all" : std::to_string(n); }

std::string claim_fmt(double v, int precision) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(precision) << v;
  return o.str();
}

// Metric values are shown in accuracy points (x100) or as they are.
double shown(double v, Metric m) { return m == Metric::kAccuracy ? 100.0 * v : v; }

template <typename T>
std::vector<T> or_all(const std::vector<T>& chosen, const std::vector<T>& all) {
  return chosen.empty() ? all : chosen;
}

// Every (cell, a, b) comparison a claim covers.
std::vector<ClaimTest> pair_tests(const ClaimSpec& c, const ClaimInputs& in,
                                  const std::vector<std::pair<std::string, std::string>>& pairs, Metric metric) {
  std::vector<ClaimTest> tests;
  for (const auto& ds : or_all(c.datasets, in.datasets)) {
    for (const auto& arch : or_all(c.archs, in.archs)) {
      for (int64_t n : or_all(c.sizes, in.sizes)) {
        for (const auto& [a, b] : pairs) {
          auto p = compare_models(in.rows, ds, arch, n, a, b, metric);
          if (!p) continue;
          ClaimTest t;
          t.dataset = ds;
          t.arch = arch;
          t.n = n;
          t.label = a + " - " + b;
          t.comparison = *p;
          t.claimed_sign = higher_is_better(metric) ? p->difference_mean > 0 : p->difference_mean < 0;
          tests.push_back(t);
        }
      }
    }
  }
  return tests;
}

std::string basis_of(const std::vector<ClaimTest>& tests) {
  int64_t seeds = 0, trials = 0;
  bool by_trials = false;
  for (const auto& t : tests) {
    if (t.comparison.unit == "VAE seeds") {
      seeds = std::max(seeds, t.comparison.pairs);
      trials = std::max(trials, t.comparison.trials);
    } else {
      by_trials = true;
      trials = std::max(trials, t.comparison.pairs);
    }
  }
  if (tests.empty()) return "no comparison";
  if (!by_trials) {
    return std::to_string(seeds) + " VAE seeds (the replication unit) x up to " + std::to_string(trials) +
           " label trials each";
  }
  return "one trained VAE per model: up to " + std::to_string(trials) +
         " label trials as replicates, so the verdict rests on one trained model each";
}

std::string evidence_of(const std::vector<ClaimTest>& tests, Metric metric) {
  std::ostringstream ev;
  const std::string unit = metric == Metric::kAccuracy ? " points" : "";
  for (const auto& t : tests) {
    const auto& p = t.comparison;
    ev << t.arch << " n=" << claim_n(t.n) << " " << t.label << ": " << (p.difference_mean >= 0 ? "+" : "")
       << claim_fmt(shown(p.difference_mean, metric), 2) << unit << " [" << claim_fmt(shown(p.ci_low, metric), 2) << ", "
       << claim_fmt(shown(p.ci_high, metric), 2) << "], p=" << claim_fmt(t.p_test, 3) << " (Holm " << claim_fmt(t.p_adjusted, 3)
       << "); ";
  }
  return ev.str();
}

void adjust(std::vector<ClaimTest>& tests, const std::vector<double>& p) {
  const auto adj = holm_adjust(p);
  for (size_t i = 0; i < tests.size(); ++i) {
    tests[i].p_test = p[i];
    tests[i].p_adjusted = adj[i];
  }
}

const char* kSignRule =
    "supported when every test it covers has the claimed sign and a Holm-corrected two-sided paired t-test "
    "p < 0.05; contradicted when any test is significant the other way; otherwise inconclusive (under pure noise "
    "at most 5% of claims come out other than inconclusive)";
const char* kMatchRule =
    "supported when every test's Holm-corrected equivalence p (two one-sided t-tests against +-margin) is < 0.05; "
    "contradicted when any Holm-corrected p of |difference| > margin is < 0.05; otherwise inconclusive";
const char* kGapRule =
    "supported when, in every cell it covers, the difference a - b is larger in the first architecture than in the "
    "second with a Holm-corrected two-sided Welch t-test p < 0.05 (the architectures' VAEs are independent, so "
    "their per-seed differences are compared unpaired); contradicted when any test is significant the other way; "
    "otherwise inconclusive";
const char* kCollapseRule =
    "supported when every trained VAE of the model has its fraction of collapsed latents (test KL < 0.01 nats) "
    "in the stated range; contradicted when none has; otherwise inconclusive (a count, not a test)";

void finish(ClaimResult& r, const ClaimInputs& in, Metric metric) {
  r.basis = basis_of(r.tests);
  r.evidence = evidence_of(r.tests, metric);
  r.indicative = in.indicative || r.basis.rfind("one trained VAE", 0) == 0;
  if (r.tests.empty()) r.verdict = "not tested";
}

// beats and order: the sign rule over the given pairs.
ClaimResult sign_claim(const ClaimSpec& c, const ClaimInputs& in,
                       const std::vector<std::pair<std::string, std::string>>& pairs) {
  const Metric metric = metric_from_name(c.metric);
  ClaimResult r;
  r.tests = pair_tests(c, in, pairs, metric);
  r.rule = kSignRule;
  r.verdict = sign_rule_verdict(r.tests, kAlpha);
  finish(r, in, metric);
  return r;
}

ClaimResult claim_beats(const ClaimSpec& c, const ClaimInputs& in) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& a : c.a)
    for (const auto& b : c.b) pairs.emplace_back(a, b);
  return sign_claim(c, in, pairs);
}

ClaimResult claim_order(const ClaimSpec& c, const ClaimInputs& in) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i + 1 < c.models.size(); ++i) pairs.emplace_back(c.models[i], c.models[i + 1]);
  return sign_claim(c, in, pairs);
}

ClaimResult claim_matches(const ClaimSpec& c, const ClaimInputs& in) {
  const Metric metric = metric_from_name(c.metric);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& a : c.a)
    for (const auto& b : c.b) pairs.emplace_back(a, b);
  ClaimResult r;
  r.tests = pair_tests(c, in, pairs, metric);
  r.rule = kMatchRule;
  std::vector<double> p_equiv, p_beyond;
  for (auto& t : r.tests) {
    p_equiv.push_back(equivalence_p(t.comparison.differences, c.margin));
    p_beyond.push_back(beyond_margin_p(t.comparison.differences, c.margin));
    t.claimed_sign = std::abs(t.comparison.difference_mean) < c.margin;
  }
  adjust(r.tests, p_equiv);
  const auto beyond = holm_adjust(p_beyond);
  bool all_equiv = !r.tests.empty(), any_beyond = false;
  for (size_t i = 0; i < r.tests.size(); ++i) {
    all_equiv = all_equiv && r.tests[i].p_adjusted < kAlpha;
    any_beyond = any_beyond || beyond[i] < kAlpha;
  }
  r.verdict = all_equiv ? "supported" : any_beyond ? "contradicted" : "inconclusive";
  finish(r, in, metric);
  r.evidence = "margin " + claim_fmt(shown(c.margin, metric), 2) + (metric == Metric::kAccuracy ? " points" : "") +
               ", p = TOST equivalence p; " + r.evidence;
  return r;
}

// gap: the difference a - b is larger in archs[0] than in archs[1], per data set, n and
// pair. The two architectures' VAEs are independent trainings, so the per-unit
// differences (VAE seeds, else label trials) of the two are compared by Welch's
// two-sample t-test, and the sign rule decides.
ClaimResult claim_gap(const ClaimSpec& c, const ClaimInputs& in) {
  const Metric metric = metric_from_name(c.metric);
  ClaimResult r;
  r.rule = kGapRule;
  const std::string& wide = c.archs[0];
  const std::string& narrow = c.archs[1];
  for (const auto& ds : or_all(c.datasets, in.datasets)) {
    for (int64_t n : or_all(c.sizes, in.sizes)) {
      for (const auto& a : c.a) {
        for (const auto& b : c.b) {
          const auto pw = compare_models(in.rows, ds, wide, n, a, b, metric);
          const auto pn = compare_models(in.rows, ds, narrow, n, a, b, metric);
          if (!pw || !pn) continue;
          const PairedTest w = welch_t_test(pw->differences, pn->differences);
          ClaimTest t;
          t.dataset = ds;
          t.arch = wide + " vs " + narrow;
          t.n = n;
          t.label = "(" + a + " - " + b + ") " + wide + " - " + narrow;
          t.comparison = *pw;
          t.comparison.arch = t.arch;
          t.comparison.unit = pw->unit == pn->unit ? pw->unit : pw->unit + " / " + pn->unit;
          t.comparison.pairs = std::min(pw->pairs, pn->pairs);
          t.comparison.difference_mean = w.mean;
          t.comparison.difference_std = w.sd;
          t.comparison.ci_low = w.ci_low;
          t.comparison.ci_high = w.ci_high;
          t.comparison.p_value = w.p_two_sided;
          t.claimed_sign = higher_is_better(metric) ? w.mean > 0 : w.mean < 0;
          r.tests.push_back(t);
        }
      }
    }
  }
  r.verdict = sign_rule_verdict(r.tests, kAlpha);
  finish(r, in, metric);
  return r;
}

ClaimResult claim_collapse(const ClaimSpec& c, const ClaimInputs& in) {
  ClaimResult r;
  r.rule = kCollapseRule;
  std::ostringstream ev;
  int64_t inside = 0, total = 0;
  for (const auto& v : in.vaes) {
    if (std::find(c.a.begin(), c.a.end(), v.model) == c.a.end()) continue;
    if (!c.archs.empty() && std::find(c.archs.begin(), c.archs.end(), v.arch) == c.archs.end()) continue;
    if (!c.datasets.empty() && std::find(c.datasets.begin(), c.datasets.end(), v.dataset) == c.datasets.end())
      continue;
    if (v.kl_per_latent.empty()) continue;
    int64_t collapsed = 0;
    for (double k : v.kl_per_latent) collapsed += k < kCollapsedKl ? 1 : 0;
    const double frac = static_cast<double>(collapsed) / static_cast<double>(v.kl_per_latent.size());
    const bool ok = frac >= c.min_fraction - 1e-12 && frac <= c.max_fraction + 1e-12;
    inside += ok ? 1 : 0;
    ++total;
    ev << v.arch << " " << v.model << " seed " << v.vae_seed << ": " << collapsed << " of " << v.kl_per_latent.size()
       << " collapsed; ";
  }
  r.evidence = "expected fraction in [" + claim_fmt(c.min_fraction, 2) + ", " + claim_fmt(c.max_fraction, 2) + "]; " + ev.str();
  r.basis = std::to_string(total) + " trained VAE" + (total == 1 ? "" : "s");
  r.verdict = total == 0 ? "not tested" : inside == total ? "supported" : inside == 0 ? "contradicted" : "inconclusive";
  r.indicative = in.indicative || total <= 1;
  return r;
}

struct ClaimKind {
  const char* name;
  ClaimResult (*evaluate)(const ClaimSpec&, const ClaimInputs&);
  const char* rule;
};

// The registry: one line per kind.
const std::vector<ClaimKind>& claim_kinds() {
  static const std::vector<ClaimKind> kinds = {
      {"beats", claim_beats, kSignRule},
      {"order", claim_order, kSignRule},
      {"matches", claim_matches, kMatchRule},
      {"collapse", claim_collapse, kCollapseRule},
      {"gap", claim_gap, kGapRule},
  };
  return kinds;
}

const ClaimKind* find_kind(const std::string& name) {
  for (const auto& k : claim_kinds())
    if (name == k.name) return &k;
  return nullptr;
}

std::string default_statement(const ClaimSpec& c) {
  auto list = [](const std::vector<std::string>& v, const char* sep) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
  };
  std::string where;
  if (!c.sizes.empty()) {
    std::vector<std::string> ns;
    for (int64_t n : c.sizes) ns.push_back(claim_n(n));
    where = " at n = " + list(ns, ", ");
  }
  if (c.kind == "beats") return list(c.a, " and ") + " beats " + list(c.b, " and ") + " on " + c.metric + where;
  if (c.kind == "order") return "on " + c.metric + ", " + list(c.models, " > ") + " (best first)" + where;
  if (c.kind == "matches") return list(c.a, " and ") + " matches " + list(c.b, " and ") + " on " + c.metric + where;
  if (c.kind == "gap") {
    return "the gap " + list(c.a, " and ") + " - " + list(c.b, " and ") + " on " + c.metric + " is larger on " +
           list(c.archs, " than on ") + where;
  }
  return "the fraction of collapsed latents of " + list(c.a, " and ") + " lies in [" + claim_fmt(c.min_fraction, 2) + ", " +
         claim_fmt(c.max_fraction, 2) + "]";
}

}  // namespace

std::string sign_rule_verdict(std::vector<ClaimTest>& tests, double alpha) {
  std::vector<double> p;
  for (const auto& t : tests) p.push_back(t.comparison.p_value);
  adjust(tests, p);
  if (tests.empty()) return "not tested";
  bool all = true, against = false;
  for (const auto& t : tests) {
    const bool significant = t.p_adjusted < alpha;
    all = all && significant && t.claimed_sign;
    against = against || (significant && !t.claimed_sign && t.comparison.difference_mean != 0.0);
  }
  return all ? "supported" : against ? "contradicted" : "inconclusive";
}

ClaimResult evaluate_claim(const ClaimSpec& claim, const ClaimInputs& inputs) {
  const ClaimKind* kind = find_kind(claim.kind);
  DVAE_CHECK(kind, "claim kind '", claim.kind, "', expected one of ", claim_kind_names());
  ClaimResult r = kind->evaluate(claim, inputs);
  r.kind = claim.kind;
  r.metric = claim.metric;
  r.statement = claim.statement.empty() ? default_statement(claim) : claim.statement;
  return r;
}

void validate_claim(const ClaimSpec& c, const std::set<std::string>& series, const std::string& where) {
  DVAE_CHECK_USAGE(find_kind(c.kind), where, ".kind: '", c.kind, "', expected one of ", claim_kind_names());
  try {
    metric_from_name(c.metric);
  } catch (const Error& e) {
    throw UsageError(where + ".metric: " + e.what());
  }
  auto check_names = [&](const std::vector<std::string>& names, const char* key) {
    for (const auto& n : names) {
      std::string known;
      for (const auto& s : series) known += (known.empty() ? "" : ", ") + s;
      DVAE_CHECK_USAGE(series.count(n), where, ".", key, ": '", n, "' is not a model or classifier of the study (",
                       known, ")");
    }
  };
  if (c.kind == "order") {
    DVAE_CHECK_USAGE(c.models.size() >= 2, where, ".models: expected at least two names, best first");
    check_names(c.models, "models");
    return;
  }
  DVAE_CHECK_USAGE(!c.a.empty(), where, ".a: expected a model name or a list of them");
  check_names(c.a, "a");
  if (c.kind == "collapse") {
    DVAE_CHECK_USAGE(c.min_fraction <= c.max_fraction, where, ": min_fraction ", c.min_fraction,
                     " > max_fraction ", c.max_fraction, ", expected min <= max");
    return;
  }
  DVAE_CHECK_USAGE(!c.b.empty(), where, ".b: expected a model name or a list of them");
  check_names(c.b, "b");
  if (c.kind == "matches") DVAE_CHECK_USAGE(c.margin > 0, where, ".margin: expected a positive margin");
  if (c.kind == "gap") {
    DVAE_CHECK_USAGE(c.archs.size() == 2 && c.archs[0] != c.archs[1], where,
                     ".archs: expected two different architectures, the one with the larger gap first");
  }
}

std::string claim_kind_names() {
  std::string s;
  for (const auto& k : claim_kinds()) s += (s.empty() ? "" : ", ") + std::string(k.name);
  return s;
}

std::string claim_rules_text() {
  std::string s = "Verdict rules:\n";
  for (const auto& k : claim_kinds()) s += "  " + std::string(k.name) + ": " + k.rule + ".\n";
  return s;
}

}  // namespace dvae
