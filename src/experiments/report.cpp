// HTML and Markdown report of a reproduction, and the verdicts on the paper's claims.
#include "experiments/report.h"

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

std::string fmt(double v, int precision = 1) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(precision) << v;
  return out.str();
}

std::string n_label(int64_t n) { return n < 0 ? "all" : std::to_string(n); }

const CellSummary* find_cell(const Summary& s, const std::string& arch, const std::string& model, int64_t n) {
  for (const auto& c : s.cells)
    if (c.arch == arch && c.model == model && c.n == n) return &c;
  return nullptr;
}

// Paired difference a - b (in either stored orientation).
std::optional<PairedSummary> find_pair(const Summary& s, const std::string& arch, int64_t n, const std::string& a,
                                       const std::string& b) {
  for (const auto& p : s.paired) {
    if (p.arch != arch || p.n != n) continue;
    if (p.model_a == a && p.model_b == b) return p;
    if (p.model_a == b && p.model_b == a) {
      PairedSummary q = p;
      std::swap(q.model_a, q.model_b);
      q.difference_mean = -q.difference_mean;
      return q;
    }
  }
  return std::nullopt;
}

std::vector<std::string> archs_of(const Summary& s) {
  std::vector<std::string> out;
  for (const auto& c : s.cells)
    if (std::find(out.begin(), out.end(), c.arch) == out.end()) out.push_back(c.arch);
  return out;
}

std::vector<int64_t> sizes_of(const Summary& s) {
  std::set<int64_t> sizes;
  for (const auto& c : s.cells) sizes.insert(c.n);
  std::vector<int64_t> out;
  for (int64_t n : sizes)
    if (n > 0) out.push_back(n);
  if (sizes.count(-1)) out.push_back(-1);
  return out;
}

// "yes" when the claim held in every tested case, "no" in none, "partly" otherwise.
std::string verdict_of(int held, int tested) { return held == tested ? "yes" : (held == 0 ? "no" : "partly"); }

// "a beats b for n in ns": mean paired difference per n, verdict from the
// mean difference and its standard error over all pairs.
Claim beats_claim(const Summary& s, const std::string& statement, const std::string& a, const std::string& b,
                  const std::vector<int64_t>& ns) {
  Claim claim{statement, "not tested", ""};
  std::ostringstream ev;
  int wins = 0, tested = 0;
  for (const auto& arch : archs_of(s)) {
    for (int64_t n : ns) {
      auto p = find_pair(s, arch, n, a, b);
      if (!p) continue;
      ++tested;
      const double se = p->pairs > 1 ? p->difference_std / std::sqrt(static_cast<double>(p->pairs)) : 0.0;
      const bool win = p->difference_mean > 0 && p->difference_mean > se;
      wins += win ? 1 : 0;
      ev << arch << " n=" << n_label(n) << ": " << (p->difference_mean >= 0 ? "+" : "") << fmt(100 * p->difference_mean)
         << " +/- " << fmt(100 * p->difference_std) << " points (" << p->pairs << " paired trials); ";
    }
  }
  if (tested == 0) return claim;
  claim.verdict = verdict_of(wins, tested);
  claim.evidence = ev.str();
  return claim;
}

}  // namespace

std::vector<Claim> evaluate_claims(const ReportData& data) {
  const Summary& s = data.summary;
  std::vector<int64_t> small, large;
  for (int64_t n : sizes_of(s)) (n > 0 && n <= 5 ? small : large).push_back(n);
  std::vector<Claim> claims;
  claims.push_back(beats_claim(s, "The disentangled VAE beats the standard VAE when labels are scarce (n <= 5)",
                               "disentangled", "standard", small));
  claims.push_back(beats_claim(s, "The disentangled VAE beats the supervised model when labels are scarce (n <= 5)",
                               "disentangled", "supervised", small));
  claims.push_back(beats_claim(s, "The standard VAE beats the supervised model when labels are scarce (n <= 5)",
                               "standard", "supervised", small));

  // With more labels the advantage fades: disentangled within 2 points of the best other model.
  {
    Claim c{"With more labels (n >= 10) the disentangled VAE approximately matches the others (within 2 points)",
            "not tested", ""};
    std::ostringstream ev;
    int ok = 0, tested = 0;
    for (const auto& arch : archs_of(s)) {
      for (int64_t n : large) {
        const auto* d = find_cell(s, arch, "disentangled", n);
        if (!d) continue;
        double best = -1;
        for (const char* other : {"standard", "supervised"})
          if (const auto* o = find_cell(s, arch, other, n)) best = std::max(best, o->accuracy_mean);
        if (best < 0) continue;
        ++tested;
        const double gap = 100 * (d->accuracy_mean - best);
        ok += gap > -2.0 ? 1 : 0;
        ev << arch << " n=" << n_label(n) << ": " << (gap >= 0 ? "+" : "") << fmt(gap) << " points vs best other; ";
      }
    }
    if (tested > 0) {
      c.verdict = verdict_of(ok, tested);
      c.evidence = ev.str();
    }
    claims.push_back(c);
  }

  // The scarce-label gap is larger with the CNN than with the MLP.
  {
    Claim c{"The scarce-label advantage of the disentangled VAE is larger with the CNN than with the MLP", "not tested",
            ""};
    auto mean_gap = [&](const std::string& arch) -> std::optional<double> {
      double sum = 0;
      int count = 0;
      for (int64_t n : small)
        for (const char* other : {"standard", "supervised"})
          if (auto p = find_pair(s, arch, n, "disentangled", other)) {
            sum += p->difference_mean;
            ++count;
          }
      if (count == 0) return std::nullopt;
      return sum / count;
    };
    auto mlp = mean_gap("mlp"), cnn = mean_gap("cnn");
    if (mlp && cnn) {
      c.verdict = *cnn > *mlp ? "yes" : "no";
      c.evidence = "mean advantage over the other two models for n <= 5: CNN " + fmt(100 * *cnn) + " points, MLP " +
                   fmt(100 * *mlp) + " points";
    }
    claims.push_back(c);
  }

  // Training loss at convergence: supervised < standard < disentangled.
  {
    Claim c{"At convergence the classifier's training loss is lowest for the supervised model, higher for the "
            "standard VAE and highest for the disentangled VAE",
            "not tested", ""};
    std::ostringstream ev;
    int ok = 0, tested = 0;
    for (const auto& arch : archs_of(s)) {
      for (int64_t n : sizes_of(s)) {
        const auto* sup = find_cell(s, arch, "supervised", n);
        const auto* std_ = find_cell(s, arch, "standard", n);
        const auto* dis = find_cell(s, arch, "disentangled", n);
        if (!sup || !std_ || !dis) continue;
        ++tested;
        const bool order = sup->train_loss_mean < std_->train_loss_mean && std_->train_loss_mean < dis->train_loss_mean;
        ok += order ? 1 : 0;
        ev << arch << " n=" << n_label(n) << ": " << fmt(sup->train_loss_mean, 3) << " < " << fmt(std_->train_loss_mean, 3)
           << " < " << fmt(dis->train_loss_mean, 3) << (order ? "" : " (order differs)") << "; ";
      }
    }
    if (tested > 0) {
      c.verdict = verdict_of(ok, tested);
      c.evidence = ev.str();
    }
    claims.push_back(c);
  }

  // Epochs to convergence: no significant difference between the two VAEs.
  {
    Claim c{"Epochs to convergence of the classifier do not differ much between the standard and disentangled VAE "
            "(within 20%)",
            "not tested", ""};
    std::ostringstream ev;
    int ok = 0, tested = 0;
    for (const auto& arch : archs_of(s)) {
      for (int64_t n : sizes_of(s)) {
        const auto* std_ = find_cell(s, arch, "standard", n);
        const auto* dis = find_cell(s, arch, "disentangled", n);
        if (!std_ || !dis) continue;
        ++tested;
        const double ref = std::max(1.0, std::max(std_->epochs_mean, dis->epochs_mean));
        const bool close = std::abs(std_->epochs_mean - dis->epochs_mean) <= 0.2 * ref;
        ok += close ? 1 : 0;
        ev << arch << " n=" << n_label(n) << ": " << fmt(std_->epochs_mean) << " vs " << fmt(dis->epochs_mean) << "; ";
      }
    }
    if (tested > 0) {
      c.verdict = verdict_of(ok, tested);
      c.evidence = ev.str();
    }
    claims.push_back(c);
  }

  // About half the disentangled latents collapse to the prior; none of the standard ones.
  {
    Claim c{"About half of the disentangled VAE's latents collapse to the prior (KL < 0.01 nats), none of the standard "
            "VAE's",
            "not tested", ""};
    std::ostringstream ev;
    int ok = 0, tested = 0;
    for (const auto& v : data.vaes) {
      if (!v.stats.contains("kl_per_latent")) continue;
      const auto kl = v.stats["kl_per_latent"].get<std::vector<double>>();
      int64_t collapsed = 0;
      for (double k : kl) collapsed += k < 0.01 ? 1 : 0;
      const double frac = kl.empty() ? 0 : static_cast<double>(collapsed) / static_cast<double>(kl.size());
      const bool expected = v.model == "disentangled" ? (frac >= 0.3 && frac <= 0.7) : collapsed == 0;
      ++tested;
      ok += expected ? 1 : 0;
      ev << v.arch << " " << v.model << " (beta " << fmt(v.beta, 0) << "): " << collapsed << " of " << kl.size()
         << " collapsed; ";
    }
    if (tested > 0) {
      c.verdict = verdict_of(ok, tested);
      c.evidence = ev.str();
    }
    claims.push_back(c);
  }
  return claims;
}

namespace {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
  }
  return out;
}

// Copies src into report_dir/files/ (unique name) and returns the relative link ("" if src is empty/missing).
class FileCopier {
 public:
  explicit FileCopier(std::string report_dir) : dir_(std::move(report_dir)) { fs::create_directories(dir_ + "/files"); }
  std::string operator()(const std::string& src) {
    if (src.empty() || !fs::exists(src)) return "";
    if (auto it = copied_.find(src); it != copied_.end()) return it->second;
    std::string name = fs::path(src).filename().string();
    const std::string parent = fs::path(src).parent_path().filename().string();
    if (!parent.empty()) name = parent + "-" + name;
    while (used_.count(name)) name = "x" + name;
    used_.insert(name);
    write_file_atomic(dir_ + "/files/" + name, read_file(src));
    return copied_[src] = "files/" + name;
  }

 private:
  std::string dir_;
  std::map<std::string, std::string> copied_;
  std::set<std::string> used_;
};

}  // namespace

std::string write_report(const ReportData& data, const std::string& report_dir) {
  fs::create_directories(report_dir);
  FileCopier copy(report_dir);
  const auto claims = evaluate_claims(data);
  const auto archs = archs_of(data.summary);
  const auto sizes = sizes_of(data.summary);
  const std::vector<std::string> models = {"disentangled", "standard", "supervised"};
  const bool quick = data.config.value("preset", "") == "quick";

  std::ostringstream h, md;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<title>dvae reproduction report</title>\n<style>\n"
    << "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
    << "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}\n"
    << "th{background:#eee}td.l,th.l{text-align:left}img{max-width:100%;border:1px solid #ddd;margin:4px 0}\n"
    << ".yes{color:#060;font-weight:bold}.no{color:#a00;font-weight:bold}.partly{color:#a60;font-weight:bold}\n"
    << ".note{background:#ffe;border:1px solid #cc9;padding:8px}figure{margin:1em 0}\n"
    << "</style></head>\n<body>\n<h1>Disentangling VAEs for image classification: reproduction report</h1>\n";
  md << "# Disentangling VAEs for image classification: reproduction report\n\n";
  if (quick) {
    const std::string note =
        "This is the <b>quick</b> preset: fewer VAE epochs, fewer sizes of n and trials, and shorter classifier "
        "training than the paper. Its numbers show every part of the report but are not the paper's settings; run "
        "<code>dvae reproduce --preset paper</code> for those.";
    h << "<p class=\"note\" id=\"preset-note\">" << note << "</p>\n";
    md << "> **Quick preset**: fewer VAE epochs, sizes, trials and classifier epochs than the paper; run "
          "`dvae reproduce --preset paper` for the paper's settings.\n\n";
  }

  // Settings and environment.
  h << "<h2>Settings and environment</h2>\n<table>\n";
  md << "## Settings and environment\n\n| setting | value |\n|---|---|\n";
  for (const auto& [k, v] : data.config.items()) {
    h << "<tr><th class=\"l\">" << html_escape(k) << "</th><td class=\"l\">" << html_escape(v.dump()) << "</td></tr>\n";
    md << "| " << k << " | " << v.dump() << " |\n";
  }
  for (const auto& [k, v] : data.environment.items()) {
    const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    h << "<tr><th class=\"l\">" << html_escape(k) << "</th><td class=\"l\">" << html_escape(text) << "</td></tr>\n";
    md << "| " << k << " | " << text << " |\n";
  }
  h << "<tr><th class=\"l\">total wall time</th><td class=\"l\">" << fmt(data.seconds) << " s</td></tr>\n</table>\n";
  md << "| total wall time | " << fmt(data.seconds) << " s |\n\n";

  // Accuracy table.
  h << "<h2>Test accuracy (%)</h2>\n<p>Mean &plusmn; standard deviation over trials, full test set.</p>\n";
  md << "## Test accuracy (%)\n\nMean +/- standard deviation over trials, full test set.\n\n";
  for (const auto& arch : archs) {
    h << "<h3>" << html_escape(arch) << "</h3>\n<table class=\"accuracy\" id=\"accuracy-" << arch
      << "\"><tr><th class=\"l\">model</th>";
    md << "### " << arch << "\n\n| model |";
    for (int64_t n : sizes) {
      h << "<th>n=" << n_label(n) << "</th>";
      md << " n=" << n_label(n) << " |";
    }
    h << "</tr>\n";
    md << "\n|---|";
    for (size_t i = 0; i < sizes.size(); ++i) md << "---|";
    md << "\n";
    for (const auto& model : models) {
      h << "<tr><td class=\"l\">" << model << "</td>";
      md << "| " << model << " |";
      for (int64_t n : sizes) {
        const auto* c = find_cell(data.summary, arch, model, n);
        const std::string text = c ? fmt(100 * c->accuracy_mean) + " &plusmn; " + fmt(100 * c->accuracy_std) : "-";
        const std::string mtext = c ? fmt(100 * c->accuracy_mean) + " +/- " + fmt(100 * c->accuracy_std) : "-";
        h << "<td>" << text << "</td>";
        md << " " << mtext << " |";
      }
      h << "</tr>\n";
      md << "\n";
    }
    h << "</table>\n";
    md << "\n";
  }

  // Paired differences.
  h << "<h2>Paired differences (points)</h2>\n<table><tr><th class=\"l\">arch</th><th>n</th><th class=\"l\">pair</th>"
    << "<th>mean &plusmn; std</th><th>pairs</th></tr>\n";
  md << "## Paired differences (accuracy points)\n\n| arch | n | pair | mean +/- std | pairs |\n|---|---|---|---|---|\n";
  for (const auto& p : data.summary.paired) {
    h << "<tr><td class=\"l\">" << p.arch << "</td><td>" << n_label(p.n) << "</td><td class=\"l\">" << p.model_a
      << " &minus; " << p.model_b << "</td><td>" << fmt(100 * p.difference_mean) << " &plusmn; "
      << fmt(100 * p.difference_std) << "</td><td>" << p.pairs << "</td></tr>\n";
    md << "| " << p.arch << " | " << n_label(p.n) << " | " << p.model_a << " - " << p.model_b << " | "
       << fmt(100 * p.difference_mean) << " +/- " << fmt(100 * p.difference_std) << " | " << p.pairs << " |\n";
  }
  h << "</table>\n";
  md << "\n";

  // Training loss and epochs to convergence.
  h << "<h2>Classifier training loss and epochs to convergence</h2>\n<table><tr><th class=\"l\">arch</th><th>n</th>"
    << "<th class=\"l\">model</th><th>final training loss</th><th>epochs to convergence</th></tr>\n";
  md << "## Classifier training loss and epochs to convergence\n\n| arch | n | model | final training loss | epochs to "
        "convergence |\n|---|---|---|---|---|\n";
  for (const auto& c : data.summary.cells) {
    h << "<tr><td class=\"l\">" << c.arch << "</td><td>" << n_label(c.n) << "</td><td class=\"l\">" << c.model
      << "</td><td>" << fmt(c.train_loss_mean, 4) << "</td><td>" << fmt(c.epochs_mean) << "</td></tr>\n";
    md << "| " << c.arch << " | " << n_label(c.n) << " | " << c.model << " | " << fmt(c.train_loss_mean, 4) << " | "
       << fmt(c.epochs_mean) << " |\n";
  }
  h << "</table>\n";
  md << "\n";

  // Claims.
  h << "<h2>The paper's claims</h2>\n<table id=\"claims\"><tr><th class=\"l\">claim</th><th>supported?</th>"
    << "<th class=\"l\">evidence</th></tr>\n";
  md << "## The paper's claims\n\n| claim | supported? | evidence |\n|---|---|---|\n";
  for (const auto& c : claims) {
    h << "<tr><td class=\"l\">" << html_escape(c.statement) << "</td><td class=\"" << c.verdict << "\">" << c.verdict
      << "</td><td class=\"l\">" << html_escape(c.evidence) << "</td></tr>\n";
    md << "| " << c.statement << " | " << c.verdict << " | " << c.evidence << " |\n";
  }
  h << "</table>\n";
  md << "\n";

  auto figure = [&](const std::string& path, const std::string& caption) {
    const std::string link = copy(path);
    if (link.empty()) return;
    h << "<figure><img src=\"" << link << "\" alt=\"" << html_escape(caption) << "\"><figcaption>"
      << html_escape(caption) << "</figcaption></figure>\n";
    md << "![" << caption << "](" << link << ")\n\n";
  };

  h << "<h2>Figure 4: accuracy against labels per class</h2>\n";
  md << "## Figure 4: accuracy against labels per class\n\n";
  figure(data.figure4_png, "Test accuracy against labelled images per class (error bars: 1 std over trials)");
  if (const auto svg = copy(data.figure4_svg); !svg.empty()) {
    h << "<p><a href=\"" << svg << "\">SVG</a>";
    md << "[SVG](" << svg << ")";
  }
  if (const auto csv = copy(data.figure4_csv); !csv.empty()) {
    h << " &middot; <a href=\"" << csv << "\">plotted numbers (CSV)</a>";
    md << " · [plotted numbers (CSV)](" << csv << ")";
  }
  h << "</p>\n";
  md << "\n\n";

  h << "<h2>What each VAE learned</h2>\n<table><tr><th class=\"l\">VAE</th><th>beta</th><th>epochs</th>"
    << "<th>test ELBO (nats)</th><th>test KL (nats)</th><th>active latents</th><th>training seconds</th></tr>\n";
  md << "## What each VAE learned\n\n| VAE | beta | epochs | test ELBO (nats) | test KL (nats) | active latents | training "
        "seconds |\n|---|---|---|---|---|---|---|\n";
  for (const auto& v : data.vaes) {
    const double elbo = v.stats.value("test_elbo", 0.0), kl = v.stats.value("test_kl", 0.0);
    const int64_t active = v.stats.value("active_latents", int64_t{0});
    h << "<tr><td class=\"l\">" << v.arch << " " << v.model << "</td><td>" << fmt(v.beta, 0) << "</td><td>" << v.epochs
      << "</td><td>" << fmt(elbo, 2) << "</td><td>" << fmt(kl, 2) << "</td><td>" << active << "</td><td>"
      << fmt(v.seconds) << "</td></tr>\n";
    md << "| " << v.arch << " " << v.model << " | " << fmt(v.beta, 0) << " | " << v.epochs << " | " << fmt(elbo, 2)
       << " | " << fmt(kl, 2) << " | " << active << " | " << fmt(v.seconds) << " |\n";
  }
  h << "</table>\n";
  md << "\n";
  for (const auto& v : data.vaes) {
    const std::string name = v.arch + " " + v.model + " VAE (beta " + fmt(v.beta, 0) + ")";
    h << "<h3>" << html_escape(name) << "</h3>\n";
    md << "### " << name << "\n\n";
    figure(v.traversal, "Latent traversals of the " + name + ", rows sorted by KL");
    figure(v.kl_chart, "Per-latent KL on the test set, " + name);
    figure(v.curves, "Training curves, " + name);
    figure(v.samples, "Samples from the prior, " + name);
  }
  for (const auto& a : data.archs) {
    h << "<h2>Reconstructions and errors: " << a.arch << "</h2>\n";
    md << "## Reconstructions and errors: " << a.arch << "\n\n";
    figure(a.recon_random, a.arch + ": random test images and their reconstructions (standard, then disentangled)");
    figure(a.recon_worst, a.arch + ": the worst reconstructions");
    for (const auto& [caption, png] : a.confusions) figure(png, caption);
    for (const auto& [caption, png] : a.galleries) figure(png, caption);
  }
  if (!data.durations.empty()) {
    h << "<h2>Durations</h2>\n<table><tr><th class=\"l\">unit</th><th>seconds</th></tr>\n";
    md << "## Durations\n\n| unit | seconds |\n|---|---|\n";
    for (const auto& [label, sec] : data.durations) {
      h << "<tr><td class=\"l\">" << html_escape(label) << "</td><td>" << fmt(sec) << "</td></tr>\n";
      md << "| " << label << " | " << fmt(sec) << " |\n";
    }
    h << "</table>\n";
  }
  // Marks the page once every image has loaded (checked by the headless-browser test).
  h << "<script>\nwindow.addEventListener('load', function () {\n"
    << "  var imgs = document.images, ok = 0;\n"
    << "  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;\n"
    << "  document.body.setAttribute('data-images', ok + '/' + imgs.length);\n});\n</script>\n</body></html>\n";

  // Machine-readable companions.
  std::ostringstream csv;
  csv << "arch,model,beta,n,trial,seed,accuracy,train_loss,epochs_to_convergence,seconds\n";
  for (const auto& r : data.rows)
    csv << r.arch << "," << r.model << "," << r.beta << "," << r.n << "," << r.trial << "," << r.seed << ","
        << r.accuracy << "," << r.train_loss << "," << r.epochs_to_convergence << "," << r.seconds << "\n";
  write_file_atomic(report_dir + "/results.csv", csv.str());
  nlohmann::json claims_json = nlohmann::json::array();
  for (const auto& c : claims) claims_json.push_back({{"claim", c.statement}, {"verdict", c.verdict}, {"evidence", c.evidence}});
  write_file_atomic(report_dir + "/summary.json",
                    nlohmann::json{{"config", data.config}, {"environment", data.environment}, {"claims", claims_json}}
                        .dump(2));
  write_file_atomic(report_dir + "/report.md", md.str());
  write_file_atomic(report_dir + "/index.html", h.str());
  return report_dir + "/index.html";
}

}  // namespace dvae
