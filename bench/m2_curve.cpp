// Accuracy against training time of M2 / M1+M2 on one labelled subset of the
// protocol (the subset, validation rows and seeds a study would use), to choose
// an epoch budget: one JSON line per epoch {epoch, loss, ..., test_accuracy,
// seconds} on stdout, as training/m2_trainer.h records it.
//
//   build/bench/dvae_m2_curve --data mnist --root data --n 10 --trial 0 --epochs E
//        [--beta B] [--alpha A] [--layers L] [--hidden K] [--batch U] [--labelled-batch B] [--lr LR] [--lr-decay D]
//        [--vae checkpoint.pt (M1+M2)] [--seed S] [--threads T]
//        [--checkpoint FILE (resumable)]
//        [--codes DIR (M1+M2 on codes computed elsewhere: DIR/train.f32 and DIR/test.f32,
//         float32 [N, 2D] rows of D means then D log-variances, in the data set's order)]
//
// --batch is the unlabelled images per step (default 100), --labelled-batch the
// labelled ones (nips14-ssl's 100-label run: --batch 500 --labelled-batch 1).
//
// Run it with the OpenBLAS kernel and wait policy the dvae binary chooses for
// itself on this CPU (apps/dvae.cpp): `build/dvae info` prints them (its "blas
// kernel" line, and OMP_WAIT_POLICY=PASSIVE where its kernel-choice line says
// dvae sets it); set OPENBLAS_CORETYPE=SkylakeX only where that line names it.
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "core/check.h"
#include "data/datasets.h"
#include "evaluation/features.h"
#include "evaluation/protocol.h"
#include "evaluation/semi_supervised.h"
#include "training/checkpoint.h"

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "dvae_m2_curve: %s (usage: --data NAME --root DIR --n N --trial T --epochs E [--beta B] [--alpha A] "
               "[--layers L] [--hidden K] [--batch U] [--labelled-batch B] [--lr LR] [--lr-decay D] [--vae CKPT] [--seed S] [--threads T] "
               "[--checkpoint FILE] [--codes DIR])\n",
               why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a = {{"--data", "mnist"}, {"--root", "data"}, {"--n", "10"},
                                          {"--trial", "0"},    {"--epochs", "10"}, {"--beta", "1"},
                                          {"--alpha", "0.1"},  {"--layers", "2"},  {"--vae", ""},
                                          {"--seed", "1"},     {"--threads", "0"}, {"--checkpoint", ""}, {"--hidden", "500"},
                                          {"--labelled-batch", "100"}, {"--batch", "100"}, {"--lr", "3e-4"}, {"--codes", ""}, {"--lr-decay", "1"}};
  for (int i = 1; i < argc; i += 2) {
    if (!a.count(argv[i]) || i + 1 >= argc) usage(std::string("bad argument ") + argv[i]);
    a[argv[i]] = argv[i + 1];
  }
  try {
    if (std::stoi(a["--threads"]) > 0) torch::set_num_threads(std::stoi(a["--threads"]));
    const dvae::Dataset data = dvae::load_dataset(a["--data"], a["--root"]);
    const uint64_t seed = std::stoull(a["--seed"]);
    const auto validation = dvae::protocol_validation(data.train, 100, seed);
    const auto subset = dvae::protocol_subset(data.train, std::stoll(a["--n"]), std::stoll(a["--trial"]), seed, 100);
    dvae::M2Inputs train, test;
    const bool codes = !a["--vae"].empty() || !a["--codes"].empty();
    if (!a["--codes"].empty()) {
      // Codes of another implementation's M1 (a reference check): the units are
      // kept as the study keeps them, by the sd of the training means.
      const auto read = [&](const std::string& split, const dvae::ImageSet& set) {
        const std::string path = a["--codes"] + "/" + split + ".f32";
        std::ifstream f(path, std::ios::binary | std::ios::ate);
        if (!f) usage("cannot open " + path);
        const int64_t bytes = f.tellg();
        const int64_t n = set.size();
        if (bytes % (n * 8) != 0) usage(path + ": size is not " + std::to_string(n) + " rows of 2D float32 values");
        auto t = torch::empty({n, bytes / (n * 4)}, torch::kFloat);
        f.seekg(0);
        f.read(reinterpret_cast<char*>(t.data_ptr<float>()), bytes);
        return t;
      };
      const auto tr = read("train", data.train), te = read("test", data.test);
      const int64_t D = tr.size(1) / 2;
      const auto units = dvae::active_units(tr.narrow(1, 0, D), 0.1);
      std::fprintf(stderr, "codes %s: %zu of %lld units active\n", a["--codes"].c_str(), units.size(),
                   static_cast<long long>(D));
      train = dvae::code_inputs_from(tr, data.train.labels, units);
      test = dvae::code_inputs_from(te, data.test.labels, units);
    } else if (codes) {
      const dvae::LoadedVae m1 = dvae::load_vae(a["--vae"]);
      auto& enc = *m1.vae->encoder();
      const auto units = dvae::active_units(dvae::extract_features(enc, data.train, false), 0.1);
      std::fprintf(stderr, "M1 %s: %zu of %lld units active\n", a["--vae"].c_str(), units.size(),
                   static_cast<long long>(m1.meta.latent_dim));
      train = dvae::code_inputs(enc, data.train, units);
      test = dvae::code_inputs(enc, data.test, units);
    } else {
      train = dvae::pixel_inputs(data.train);
      test = dvae::pixel_inputs(data.test);
    }
    dvae::M2Options model;
    model.x_dim = train.x[0].numel();
    model.image_size = codes ? 0 : data.train.rows();
    model.likelihood = codes ? "gaussian" : "bernoulli";
    model.hidden_layers = std::stoll(a["--layers"]);
    model.hidden = std::stoll(a["--hidden"]);
    dvae::M2TrainOptions o;
    o.epochs = std::stoll(a["--epochs"]);
    o.beta = std::stod(a["--beta"]);
    o.alpha = std::stod(a["--alpha"]);
    o.labelled_batch = std::stoll(a["--labelled-batch"]);
    o.unlabelled_batch = std::stoll(a["--batch"]);
    o.lr = std::stod(a["--lr"]);
    o.lr_decay = std::stod(a["--lr-decay"]);
    dvae::M2Run run;
    run.seed = seed;
    run.checkpoint = a["--checkpoint"];
    run.tag = data.name;
    run.on_epoch = [](const dvae::M2EpochRecord& e) { std::cout << dvae::m2_epoch_to_json(e).dump() << std::endl; };
    const auto unlabelled = dvae::unlabelled_rows(data.train.size(), subset, validation);
    const auto fit = dvae::train_m2(model, train, subset, unlabelled, validation, test, o, run);
    std::fprintf(stderr, "done: %.1f s\n", fit.seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
