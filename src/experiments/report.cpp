// The study report: one document model written as HTML and Markdown at once.
#include "experiments/report.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

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

std::string md_cell(std::string s) {
  for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
  return s;
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

// A document written as HTML and Markdown side by side.
class Doc {
 public:
  explicit Doc(FileCopier& copy) : copy_(copy) {}
  void h(int level, const std::string& text, const std::string& id = "") {
    html_ << "<h" << level << (id.empty() ? "" : " id=\"" + id + "\"") << ">" << html_escape(text) << "</h" << level
          << ">\n";
    md_ << std::string(static_cast<size_t>(level), '#') << " " << text << "\n\n";
  }
  void p(const std::string& text, const std::string& cls = "") {
    html_ << "<p" << (cls.empty() ? "" : " class=\"" + cls + "\"") << ">" << html_escape(text) << "</p>\n";
    md_ << (cls == "note" ? "> " : "") << text << "\n\n";
  }
  // cell_class[i][j] colours a cell in HTML (verdicts).
  void table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
             const std::string& id = "", const std::vector<std::vector<std::string>>& cell_class = {}) {
    html_ << "<table" << (id.empty() ? "" : " id=\"" + id + "\"") << "><tr>";
    md_ << "|";
    for (const auto& c : head) {
      html_ << "<th>" << html_escape(c) << "</th>";
      md_ << " " << md_cell(c) << " |";
    }
    html_ << "</tr>\n";
    md_ << "\n|";
    for (size_t i = 0; i < head.size(); ++i) md_ << "---|";
    md_ << "\n";
    for (size_t r = 0; r < rows.size(); ++r) {
      html_ << "<tr>";
      md_ << "|";
      for (size_t c = 0; c < rows[r].size(); ++c) {
        const std::string cls = r < cell_class.size() && c < cell_class[r].size() ? cell_class[r][c] : "";
        html_ << "<td" << (cls.empty() ? "" : " class=\"" + cls + "\"") << ">" << html_escape(rows[r][c]) << "</td>";
        md_ << " " << md_cell(rows[r][c]) << " |";
      }
      html_ << "</tr>\n";
      md_ << "\n";
    }
    html_ << "</table>\n";
    md_ << "\n";
  }
  void figure(const std::string& path, const std::string& caption) {
    const std::string link = copy_(path);
    if (link.empty()) return;
    html_ << "<figure><img src=\"" << link << "\" alt=\"" << html_escape(caption) << "\"><figcaption>"
          << html_escape(caption) << "</figcaption></figure>\n";
    md_ << "![" << caption << "](" << link << ")\n\n";
  }
  void links(const std::vector<std::pair<std::string, std::string>>& items) {
    std::string h, m;
    for (const auto& [text, path] : items) {
      const std::string link = copy_(path);
      if (link.empty()) continue;
      h += (h.empty() ? "" : " &middot; ") + std::string("<a href=\"") + link + "\">" + html_escape(text) + "</a>";
      m += (m.empty() ? "" : " · ") + std::string("[") + text + "](" + link + ")";
    }
    if (h.empty()) return;
    html_ << "<p>" << h << "</p>\n";
    md_ << m << "\n\n";
  }
  void code(const std::string& text) {
    html_ << "<pre><code>" << html_escape(text) << "</code></pre>\n";
    md_ << "```sh\n" << text << "\n```\n\n";
  }
  std::string html() const { return html_.str(); }
  std::string md() const { return md_.str(); }

 private:
  FileCopier& copy_;
  std::ostringstream html_, md_;
};

std::string interval(double mean, double lo, double hi, double scale, int precision) {
  return fmt(scale * mean, precision) + " [" + fmt(scale * lo, precision) + ", " + fmt(scale * hi, precision) + "]";
}

void settings_section(Doc& doc, const ReportData& data) {
  doc.h(2, "Settings and environment");
  std::vector<std::vector<std::string>> rows;
  for (const auto& [k, v] : data.config.items()) {
    if (k == "models" || k == "classifiers" || k == "claims") continue;
    rows.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
  }
  for (const auto& key : {"models", "classifiers"}) {
    if (!data.config.contains(key)) continue;
    for (const auto& m : data.config[key]) rows.push_back({key, m.dump()});
  }
  for (const auto& [k, v] : data.environment.items()) rows.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
  rows.push_back({"total wall time", fmt(data.seconds) + " s"});
  doc.table({"setting", "value"}, rows);
}

void accuracy_section(Doc& doc, const ReportData& data) {
  doc.h(2, "Test accuracy (%)");
  doc.p("Mean and 95% confidence interval of the mean over the replication units: the VAE seeds when a model has "
        "two or more (each seed's accuracy averaged over its label trials first), otherwise the label trials (then "
        "the interval describes one trained VAE, not the model). The supervised baseline has no VAE seed: its units "
        "are label trials. (K x T) = VAE seeds x label trials. Full test set.");
  std::vector<std::tuple<std::string, std::string>> panels;
  std::set<int64_t> sizes_set;
  for (const auto& c : data.summary.cells) {
    if (std::find(panels.begin(), panels.end(), std::make_tuple(c.dataset, c.arch)) == panels.end())
      panels.emplace_back(c.dataset, c.arch);
    sizes_set.insert(c.n < 0 ? INT64_MAX : c.n);
  }
  for (const auto& [dataset, arch] : panels) {
    doc.h(3, dataset + " " + arch);
    std::vector<std::string> head = {"model"};
    std::vector<int64_t> sizes;
    for (int64_t n : sizes_set) sizes.push_back(n == INT64_MAX ? -1 : n);
    for (int64_t n : sizes) head.push_back("n=" + n_label(n));
    std::vector<std::vector<std::string>> rows;
    for (const auto& model : data.summary.models) {
      std::vector<std::string> row = {model};
      bool any = false;
      for (int64_t n : sizes) {
        std::string text = "-";
        for (const auto& c : data.summary.cells) {
          if (c.dataset == dataset && c.arch == arch && c.model == model && c.n == n) {
            text = interval(c.accuracy_mean, c.accuracy_ci_low, c.accuracy_ci_high, 100, 1) + " (" +
                   std::to_string(c.vae_seeds) + "x" + std::to_string(c.trials / std::max<int64_t>(1, c.vae_seeds)) +
                   ")";
            any = true;
          }
        }
        row.push_back(text);
      }
      if (any) rows.push_back(row);
    }
    doc.table(head, rows, "accuracy-" + dataset + "-" + arch);
  }
}

void comparison_section(Doc& doc, const ReportData& data) {
  doc.h(2, "Paired comparisons (accuracy points)");
  doc.p("A - B paired on (VAE seed index, n, label subset): mean difference with its 95% t interval across the "
        "units named, and the two-sided paired t-test p-value (uncorrected; the claims below correct for the cells "
        "they cover with Holm's method). Every model is compared with the first model of the study and with each "
        "supervised baseline.");
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : data.summary.paired) {
    rows.push_back({p.dataset, p.arch, n_label(p.n), p.model_a + " - " + p.model_b,
                    interval(p.difference_mean, p.ci_low, p.ci_high, 100, 2), fmt(p.p_value, 4),
                    std::to_string(p.pairs) + " " + p.unit + (p.unit == "VAE seeds" ? " x " + std::to_string(p.trials) + " trials" : "")});
  }
  doc.table({"data", "arch", "n", "A - B", "mean [95% CI]", "p", "units"}, rows, "paired");
}

void claims_section(Doc& doc, const ReportData& data) {
  if (data.claims.empty()) return;
  doc.h(2, "Claims", "claims");
  if (data.indicative) {
    doc.p("Indicative: this study is marked indicative (the quick preset: few epochs, seeds and trials). Its verdicts "
          "show the machinery, not the paper's result.", "note");
  }
  std::set<std::string> rules;
  std::vector<std::vector<std::string>> rows, classes;
  for (size_t i = 0; i < data.claims.size(); ++i) {
    const auto& c = data.claims[i];
    rows.push_back({std::to_string(i + 1), c.statement, c.verdict + (c.indicative ? " (indicative)" : ""), c.basis,
                    c.evidence});
    classes.push_back({"", "l", c.verdict, "l", "l"});
    rules.insert(c.kind + ": " + c.rule + ".");
  }
  doc.table({"#", "claim", "verdict", "basis", "evidence (difference [95% CI], p of the rule's test, Holm-corrected p)"}, rows,
            "claims-table", classes);
  for (const auto& r : rules) doc.p("Rule, " + r);
  for (size_t i = 0; i < data.claims.size() && i < data.forest_plots.size(); ++i) {
    doc.figure(data.forest_plots[i], "Claim " + std::to_string(i + 1) + " (" + data.claims[i].verdict +
                                         "): paired differences with 95% intervals, one line per cell");
  }
}

void loss_section(Doc& doc, const ReportData& data) {
  doc.h(2, "Classifier training loss and epochs to convergence");
  doc.p("Final training loss: the mean cross-entropy of the last epoch. Epochs to convergence: the epoch with the "
        "lowest loss on a held-out labelled validation set (disjoint from every labelled subset), the epoch early "
        "stopping would keep. Means over every row of the cell. A mean equal to the epochs trained means the "
        "validation loss was still falling at the last epoch: the classifier had not converged within its budget.");
  std::map<std::tuple<std::string, std::string, int64_t, std::string>, int64_t> trained;
  for (const auto& r : data.rows) trained[{r.dataset, r.arch, r.n, r.model}] = r.epochs;
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : data.summary.cells) {
    const int64_t epochs = trained[{c.dataset, c.arch, c.n, c.model}];
    rows.push_back({c.dataset, c.arch, n_label(c.n), c.model, fmt(c.train_loss_mean, 4), fmt(c.epochs_mean),
                    std::to_string(epochs) + (epochs > 0 && c.epochs_mean >= static_cast<double>(epochs) ? " (not converged)" : "")});
  }
  doc.table({"data", "arch", "n", "model", "final training loss", "epochs to convergence", "epochs trained"}, rows);
}

void vae_section(Doc& doc, const ReportData& data) {
  doc.h(2, "What each VAE learned");
  doc.p("The first VAE seed of each model.");
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : data.vaes) {
    rows.push_back({v.dataset + " " + v.arch + " " + v.model, v.weights, std::to_string(v.epochs),
                    fmt(v.stats.value("test_elbo", 0.0), 2), fmt(v.stats.value("test_kl", 0.0), 2),
                    std::to_string(v.stats.value("active_latents", int64_t{0})), fmt(v.seconds)});
  }
  doc.table({"VAE", "weights", "epochs", "test ELBO (nats)", "test KL (nats)", "active latents", "training seconds"}, rows);
  for (const auto& v : data.vaes) {
    const std::string name = v.dataset + " " + v.arch + " " + v.model + " (" + v.weights + ")";
    doc.h(3, name);
    doc.figure(v.traversal, "Latent traversals of " + name + ", rows sorted by KL");
    doc.figure(v.kl_chart, "Per-latent KL on the test set, " + name);
    doc.figure(v.curves, "Training curves, " + name);
    doc.figure(v.samples, "Samples from the prior, " + name);
  }
}

// text as one shell word (single-quoted unless it is made of safe characters).
std::string shell_word(const std::string& text) {
  const bool safe = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string("_-./=:+,@").find(c) != std::string::npos;
  });
  if (safe) return text;
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The `dvae serve` command that opens this report's VAEs in the browser, one per (data set, architecture).
void explore_section(Doc& doc, const ReportData& data) {
  std::vector<std::pair<std::string, std::string>> commands;  // (data set arch, command)
  for (const auto& v : data.vaes) {
    if (v.checkpoint.empty()) continue;
    const std::string group = v.dataset + " " + v.arch;
    auto it = std::find_if(commands.begin(), commands.end(), [&](const auto& c) { return c.first == group; });
    if (it == commands.end()) it = commands.insert(commands.end(), {group, "dvae serve"});
    it->second += " \\\n    --checkpoint " + shell_word(v.model + "=" + v.checkpoint);
  }
  if (commands.empty()) return;
  doc.h(2, "Explore these models", "explore");
  doc.p("Move each latent and watch the image change, draw a digit or pick a test image and see its code, with the "
        "models side by side: run the command (build/dvae from a source tree) and open the URL it prints (it listens "
        "on 127.0.0.1 only). Add --classifier probe:10 for each model's class probabilities from a probe on 10 "
        "labels per class.");
  for (const auto& [group, command] : commands) {
    if (commands.size() > 1) doc.p(group + ":");
    doc.code(command);
  }
}

}  // namespace

std::string write_report(const ReportData& data, const std::string& report_dir) {
  fs::create_directories(report_dir);
  FileCopier copy(report_dir);
  Doc doc(copy);
  doc.h(1, data.title);
  if (data.indicative) {
    doc.p("Quick preset (indicative): fewer VAE epochs, seeds, sizes, trials and classifier epochs than the paper. "
          "Every part of the report is here, but run `dvae reproduce --preset paper` for the paper's settings.",
          "note");
  }
  settings_section(doc, data);
  accuracy_section(doc, data);
  comparison_section(doc, data);
  claims_section(doc, data);
  loss_section(doc, data);
  for (const auto& f : data.figure4) {
    doc.h(2, "Figure 4: accuracy against labels per class (" + f.dataset + ")");
    doc.figure(f.png, "Test accuracy against labelled images per class, " + f.dataset +
                          " (error bars: 1 std over every run: VAE seeds x trials)");
    doc.links({{"SVG", f.svg}, {"plotted numbers (CSV)", f.csv}});
  }
  for (const auto& sec : data.sections) {
    doc.h(2, sec.title, sec.id);
    for (const auto& b : sec.blocks) {
      if (b.kind == "table") {
        doc.table(b.head, b.rows);
      } else if (b.kind == "figure") {
        doc.figure(b.path, b.text);
      } else {
        doc.p(b.text, b.kind == "note" ? "note" : "");
      }
    }
  }
  vae_section(doc, data);
  explore_section(doc, data);
  for (const auto& a : data.archs) {
    doc.h(2, "Reconstructions and errors: " + a.dataset + " " + a.arch);
    doc.figure(a.recon_random, a.arch + ": " + a.recon_caption);
    doc.figure(a.recon_worst, a.arch + ": the worst reconstructions");
    for (const auto& [caption, png] : a.confusions) doc.figure(png, caption);
    for (const auto& [caption, png] : a.galleries) doc.figure(png, caption);
  }
  if (!data.durations.empty()) {
    doc.h(2, "Durations");
    std::vector<std::vector<std::string>> rows;
    for (const auto& [label, sec] : data.durations) rows.push_back({label, fmt(sec)});
    doc.table({"unit", "seconds"}, rows);
  }

  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" << html_escape(data.title)
    << "</title>\n<style>\n"
    << "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
    << "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:left}\n"
    << "th{background:#eee}img{max-width:100%;border:1px solid #ddd;margin:4px 0}\n"
    << ".supported{color:#060;font-weight:bold}.contradicted{color:#a00;font-weight:bold}"
    << ".inconclusive{color:#a60;font-weight:bold}\n"
    << ".note{background:#ffe;border:1px solid #cc9;padding:8px}figure{margin:1em 0}\n"
    << "</style></head>\n<body>\n"
    << doc.html()
    // Marks the page once every image has loaded (checked by the headless-browser test).
    << "<script>\nwindow.addEventListener('load', function () {\n"
    << "  var imgs = document.images, ok = 0;\n"
    << "  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;\n"
    << "  document.body.setAttribute('data-images', ok + '/' + imgs.length);\n});\n</script>\n</body></html>\n";

  // Machine-readable companions.
  std::ostringstream csv;
  csv << "dataset,arch,model,classifier,vae_seed,beta,n,trial,seed,accuracy,train_loss,epochs_to_convergence,seconds\n";
  for (const auto& r : data.rows)
    csv << r.dataset << "," << r.arch << ",\"" << r.model << "\",\"" << r.classifier << "\"," << r.vae_seed << ","
        << r.beta << "," << r.n << "," << r.trial << "," << r.seed << "," << r.accuracy << "," << r.train_loss << ","
        << r.epochs_to_convergence << "," << r.seconds << "\n";
  write_file_atomic(report_dir + "/results.csv", csv.str());
  nlohmann::json claims_json = nlohmann::json::array();
  for (const auto& c : data.claims) {
    nlohmann::json tests = nlohmann::json::array();
    for (const auto& t : c.tests) {
      tests.push_back({{"dataset", t.dataset}, {"arch", t.arch}, {"n", t.n}, {"label", t.label},
                       {"difference", t.comparison.difference_mean}, {"ci_low", t.comparison.ci_low},
                       {"ci_high", t.comparison.ci_high}, {"p", t.comparison.p_value}, {"p_holm", t.p_adjusted},
                       {"unit", t.comparison.unit}, {"units", t.comparison.pairs}});
    }
    claims_json.push_back({{"claim", c.statement}, {"kind", c.kind}, {"verdict", c.verdict},
                           {"indicative", c.indicative}, {"rule", c.rule}, {"basis", c.basis},
                           {"evidence", c.evidence}, {"tests", tests}});
  }
  write_file_atomic(report_dir + "/summary.json",
                    nlohmann::json{{"config", data.config}, {"environment", data.environment}, {"claims", claims_json}}
                        .dump(2));
  write_file_atomic(report_dir + "/report.md", doc.md());
  write_file_atomic(report_dir + "/index.html", h.str());
  return report_dir + "/index.html";
}

}  // namespace dvae
