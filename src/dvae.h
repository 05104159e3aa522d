// dvae for other C++ programs: one include for embedding a trained encoder.
// Link the installed library with find_package(dvae) and target dvae::dvae
// (see examples/embed_encoder/). Everything else in the tree is reachable by
// its layer path ("data/datasets.h", "training/checkpoint.h", ...).
#pragma once

#include "data/datasets.h"              // load_dataset, load_dataset_dir: IDX folders as uint8 tensors
#include "data/idx.h"                   // read_idx_images, read_idx_labels
#include "dvae/version.h"               // kVersion
#include "evaluation/trained_encoder.h"  // TrainedEncoder: checkpoint in, latent codes out
