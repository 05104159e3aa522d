// `dvae export`: a checkpoint's encoder and decoder weights as one file that
// Python's torch.load opens as a dict of named tensors.
#include <iostream>

#include "cli/commands.h"
#include "core/check.h"
#include "training/checkpoint.h"

namespace dvae::cli {
namespace {

struct ExportArgs {
  std::string checkpoint;  // --checkpoint
  std::string out;         // --out
};

void run_export(const ExportArgs& args, const GlobalOptions& global) {
  configure_runtime(global);
  LoadedVae loaded = load_vae(args.checkpoint);
  export_state_dict(*loaded.vae, args.out);
  if (!global.quiet) {
    std::cout << "wrote " << args.out << ": " << loaded.vae->named_parameters().size() << " parameter and "
              << loaded.vae->named_buffers().size() << " buffer tensors of a " << loaded.meta.arch << " VAE ("
              << loaded.meta.latent_dim << " latents, beta " << loaded.meta.beta << ", epoch " << loaded.meta.epoch
              << "); in Python: torch.load(\"" << args.out << "\")" << std::endl;
  }
}

}  // namespace

void add_export_command(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export", "write a checkpoint's weights as a file Python's torch.load reads");
  cmd->add_option("--checkpoint", args->checkpoint, "checkpoint.pt written by dvae train")->required();
  cmd->add_option("--out", args->out, "output file (.pt): a dict of named tensors")->required();
  cmd->callback([args, &global]() { run_export(*args, global); });
}

}  // namespace dvae::cli
