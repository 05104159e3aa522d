// `dvae serve`: the latent explorer in a browser - one page (compiled into the
// binary) and a JSON API over the checkpoints named on the command line. This
// file parses the flags, prints the URL and turns SIGINT/SIGTERM into a clean
// stop; the models live in serve/explorer.h, the HTTP side in serve/http_server.h.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "core/check.h"
#include "core/runtime.h"
#include "data/datasets.h"
#include "serve/http_server.h"

namespace dvae::cli {

namespace {

constexpr size_t kMaxNameChars = 64;
constexpr int64_t kDefaultProbeLabels = 100;

struct ServeArgs {
  std::vector<std::string> checkpoints;  // --checkpoint [NAME=]PATH, repeated
  std::string classifier = "none";       // --classifier none|probe|probe:N|probe:all
  uint64_t seed = 1;                     // --seed (the probe's labelled subset and head)
  std::string host = "127.0.0.1";        // --host
  bool allow_remote = false;             // --allow-remote
  int64_t port = 8080;                   // --port (0 = any free port)
  int64_t workers = 16;                  // --workers
  int64_t inference_threads = 1;         // --inference-threads
  std::string dataset;                   // --dataset NAME|DIR
  std::string data_dir;                  // --data-dir DIR
};

// "NAME=PATH" (the last '=' splits, unless the whole text is an existing file) or "PATH",
// named after its run folder ("runs/mlp-b4/checkpoint.pt" -> "mlp-b4") or its file name.
ServedCheckpoint parse_checkpoint(const std::string& text) {
  namespace fs = std::filesystem;
  ServedCheckpoint c;
  const auto eq = text.rfind('=');
  if (eq != std::string::npos && !fs::exists(text)) {
    DVAE_CHECK_USAGE(eq > 0 && eq + 1 < text.size(), "--checkpoint: '", text, "', expected PATH or NAME=PATH");
    c.name = text.substr(0, eq);
    c.path = text.substr(eq + 1);
  } else {
    c.path = text;
    const fs::path p(text);
    const std::string parent = p.parent_path().filename().string();
    c.name = p.filename() == "checkpoint.pt" && !parent.empty() && parent != "." && parent != ".." ? parent
                                                                                                   : p.stem().string();
  }
  DVAE_CHECK_USAGE(!c.path.empty(), "--checkpoint: '", text, "', expected PATH or NAME=PATH");
  bool printable = !c.name.empty() && c.name.size() <= kMaxNameChars;
  for (const char ch : c.name) printable = printable && static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f;
  DVAE_CHECK_USAGE(printable, "--checkpoint: name '", c.name, "', expected 1 to ", kMaxNameChars,
                   " printable characters (give NAME=PATH)");
  return c;
}

// --classifier: 0 = none, N labelled images per class, -1 = the whole training set.
int64_t parse_classifier(const std::string& text) {
  if (text == "none") return 0;
  if (text == "probe") return kDefaultProbeLabels;
  if (text == "probe:all") return -1;
  int64_t n = 0;
  size_t used = 0;
  const std::string digits = text.rfind("probe:", 0) == 0 ? text.substr(6) : "";
  try {
    n = std::stoll(digits, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  DVAE_CHECK_USAGE(!digits.empty() && used == digits.size() && n >= 1 && n <= 100000, "--classifier: '", text,
                   "', expected none, probe (100 labels per class), probe:N (N in [1, 100000]) or probe:all");
  return n;
}

// SIGINT/SIGTERM -> one byte on a pipe that a watcher thread reads (write() is
// async-signal-safe; stopping the server from the handler would not be). A
// second signal ends the process at once.
std::atomic<int> g_signal_count{0};
int g_signal_pipe[2] = {-1, -1};

void on_stop_signal(int sig) {
  if (g_signal_count.fetch_add(1) > 0) ::_exit(128 + sig);
  const unsigned char byte = static_cast<unsigned char>(sig);
  const ssize_t written = ::write(g_signal_pipe[1], &byte, 1);
  (void)written;
}

void install_stop_signals() {
  DVAE_CHECK(::pipe(g_signal_pipe) == 0, "dvae serve: cannot create a pipe for signals");
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

void run_serve(const ServeArgs& a, const GlobalOptions& global) {
  DVAE_CHECK_USAGE(!a.checkpoints.empty(), "--checkpoint: none given, expected at least one");
  DVAE_CHECK_USAGE(a.dataset.empty() || a.data_dir.empty(), "--dataset/--data-dir: both given, expected at most one");
  std::vector<ServedCheckpoint> checkpoints;
  for (const auto& text : a.checkpoints) {
    checkpoints.push_back(parse_checkpoint(text));
    for (size_t i = 0; i + 1 < checkpoints.size(); ++i) {
      DVAE_CHECK_USAGE(checkpoints[i].name != checkpoints.back().name, "--checkpoint: two models named '",
                       checkpoints.back().name, "', expected unique names (give NAME=PATH)");
    }
  }
  const int64_t probe_labels = parse_classifier(a.classifier);
  const bool loopback = is_loopback_host(a.host);
  DVAE_CHECK_USAGE(loopback || a.allow_remote, "--host: ", a.host,
                   " is not a loopback address, expected 127.0.0.1 (add --allow-remote to listen on it: anyone who "
                   "can reach it can use the server)");
  configure_runtime(global);  // all cores for the start-up work (test KL, probes)
  ExplorerOptions options;
  options.probe_labels = probe_labels;
  options.probe_seed = a.seed;
  options.device = resolve_device(global.device);
  const std::string name = a.dataset.empty() ? read_checkpoint_meta(checkpoints[0].path).dataset : a.dataset;
  Dataset data = a.data_dir.empty() ? load_dataset(name, data_root(global)) : load_dataset_dir(a.data_dir);
  ExplorerLog log;
  if (!global.quiet) log = [](const std::string& m) { std::cerr << "dvae serve: " << m << std::endl; };
  const Explorer explorer(checkpoints, std::move(data), options, log);
  set_threads(static_cast<int>(a.inference_threads));  // requests are single images: parallel across requests

  ServerOptions server_options;
  server_options.host = a.host;
  server_options.port = static_cast<int>(a.port);
  server_options.workers = static_cast<int>(a.workers);
  ExplorerServer server(explorer, server_options);
  const int port = server.bind();
  install_stop_signals();  // before the URL is printed: a client may signal as soon as it reads it
  if (!loopback) {
    std::cerr << "warning: dvae serve listens on " << a.host << ":" << port
              << ": anyone who can reach this address can use the explorer and its API" << std::endl;
  }
  const std::string shown_host = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  std::cout << "dvae serve: http://" << shown_host << ":" << port << "/" << std::endl;
  for (size_t i = 0; i < explorer.size(); ++i) {
    const ExplorerModel& m = explorer.model(i);
    std::cout << "  model " << i << " '" << m.name() << "': " << m.meta().arch << ", beta " << m.meta().beta << ", "
              << m.latent_dim() << " latents, epoch " << m.meta().epoch
              << (m.probe() ? ", probe classifier" : "") << std::endl;
  }
  std::cout << "  Ctrl-C stops" << std::endl;

  std::atomic<int> stopped_by{0};
  std::thread watcher([&] {
    unsigned char byte = 0;
    if (::read(g_signal_pipe[0], &byte, 1) == 1 && byte != 0) {
      stopped_by = byte;
      server.stop();
    }
  });
  server.run();
  if (stopped_by == 0) {  // run() ended on its own: wake the watcher
    const unsigned char zero = 0;
    const ssize_t written = ::write(g_signal_pipe[1], &zero, 1);
    (void)written;
  }
  watcher.join();
  std::cout << "dvae serve: stopped" << (stopped_by == SIGINT ? " (SIGINT)" : stopped_by == SIGTERM ? " (SIGTERM)" : "")
            << std::endl;
}

}  // namespace

void add_serve_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "the latent explorer: a page in the browser and a JSON API over trained VAEs");
  cmd->add_option("--checkpoint", a->checkpoints,
                  "[NAME=]PATH of a checkpoint.pt to explore; repeat to show models side by side (default NAME: the "
                  "run folder's name)")
      ->required();
  cmd->add_option("--classifier", a->classifier,
                  "none | probe (a linear probe on 100 labels per class) | probe:N | probe:all, trained at start-up "
                  "on the training set's posterior means")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "seed of the probe's labelled subset and initialisation")
      ->capture_default_str()
      ->check(int_in(0, kMaxSeed));
  cmd->add_option("--host", a->host, "address to listen on (other than loopback only with --allow-remote)")
      ->capture_default_str();
  cmd->add_flag("--allow-remote", a->allow_remote, "allow a --host other than 127.0.0.1 / localhost / ::1");
  cmd->add_option("--port", a->port, "TCP port (0 = any free port, printed)")->capture_default_str()->check(int_in(0, 65535));
  cmd->add_option("--workers", a->workers, "threads answering requests (the pool is fixed; more clients wait)")
      ->capture_default_str()
      ->check(int_in(1, 256));
  cmd->add_option("--inference-threads", a->inference_threads, "LibTorch threads per request")
      ->capture_default_str()
      ->check(int_in(1, 256));
  cmd->add_option("--dataset", a->dataset, "data set of the test images (default: the first checkpoint's)");
  cmd->add_option("--data-dir", a->data_dir, "folder with the four IDX files (instead of --dataset)");
  cmd->callback([a, &global]() { run_serve(*a, global); });
}

}  // namespace dvae::cli
