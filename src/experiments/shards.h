// A study split over a cluster's jobs: `dvae study run SPEC --shard K/N`
// computes only shard K's units, `dvae study merge OUT_1 ... OUT_N --out OUT`
// puts the shards' stores and artefacts together. The assignment is
// deterministic (every job computes the same one from the spec alone) and
// balanced by each unit's estimated cost (longest first onto the least-loaded
// shard); a VAE and its probes are one item, so a probe runs on the shard that
// trains its VAE. Each shard folder holds, besides a study's usual files,
// shard.json: the spec's hash and text, K/N, the shard's unit keys and whether
// it finished. A shard scores its VAEs' disentanglement; figures and the
// report are made by the merge, not by shards.
// Not a scheduler: Slurm arrays, Kubernetes indexed Jobs or shell loops run the shards.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace dvae {

/// Shard index of count (0 <= index < count); {0, 1} is the whole study.
struct ShardSpec {
  int index = 0;  ///< K, from 0 (sbatch --array=0-(N-1) gives $SLURM_ARRAY_TASK_ID)
  int count = 1;  ///< N shards in all
};

/// "K/N" -> ShardSpec; throws dvae::UsageError naming --shard, the text and what is expected.
ShardSpec parse_shard(const std::string& text);

/// Something to place on one shard: a VAE with its probes, or a supervised cell.
struct ShardItem {
  std::string key;  ///< the unit key (ties in cost are broken by key, so the order is canonical)
  double cost = 0;  ///< estimated cost (the study's progress weights)
};

/// Shard of each item (same order as items): longest first, each onto the shard
/// with the least cost so far (the lowest index on ties). Deterministic.
std::vector<int> assign_shards(const std::vector<ShardItem>& items, int count);

/// OUT_k/shard.json: what a shard run wrote.
struct ShardManifest {
  std::string spec_hash;           ///< unit_key of the resolved study's JSON
  std::string spec_toml;           ///< the study file's text (the merge parses it)
  ShardSpec shard;                 ///< K/N
  std::vector<std::string> units;  ///< keys of the units assigned to this shard
  bool complete = false;           ///< every assigned unit finished
};

/// Writes out_dir/shard.json atomically.
void write_shard_manifest(const std::string& out_dir, const ShardManifest& manifest);
/// Reads out_dir/shard.json; throws dvae::Error naming the file when absent or malformed.
ShardManifest read_shard_manifest(const std::string& out_dir);

/// Checks that shard_dirs are the N complete shards of one study (same spec
/// hash, each K of 0..N-1 once), verifies every recorded artefact's SHA-256,
/// then copies each unit's folder and record into out_dir's store (units
/// already there are kept), and each disentanglement record with its rows of
/// table disentanglement once they match each other and the scored checkpoint is
/// its VAE's (a unit of the same shard). Throws dvae::Error naming the missing
/// shard, the other study's folder, the corrupt artefact or the record. The caller holds out_dir's
/// lock. Returns the manifest of the first shard (its spec text and hash).
ShardManifest merge_shards(const std::vector<std::string>& shard_dirs, const std::string& out_dir);

}  // namespace dvae
