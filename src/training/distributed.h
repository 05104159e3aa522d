// Data-parallel training across processes on LibTorch's own distributed
// runtime (c10d): rendezvous through a c10d::TCPStore that rank 0 hosts, then
// a ProcessGroupGloo (CPU) or ProcessGroupNCCL (CUDA builds that have it) over
// which each step's flat gradient buffer (training/flat_optimizer.h) is summed
// in a few large buckets. Launch conventions are torch.distributed's: RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (torchrun --no-python,
// srun through a wrapper, a Kubernetes PyTorchJob, or `dvae train --nproc`).
// This layer never reads the environment: the CLI hands it the variables.
// Not for model parallelism or for sharding a study (experiments/shards.h).
//
// Exactness contract with the trainer: each rank computes the gradient of its
// share of the global batch's mean loss (its rows' loss sum / global batch),
// so the SUM over ranks is the single-process gradient of the whole batch.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "models/batch_norm.h"

namespace dvae {

/// Where this process sits in a data-parallel job (torch.distributed's variables).
struct DistConfig {
  int rank = 0;                       ///< RANK: 0..world_size-1 (default 0)
  int world_size = 1;                 ///< WORLD_SIZE: processes in the job (default 1)
  int local_rank = 0;                 ///< LOCAL_RANK: index on this machine (default = rank)
  std::string master_addr = "127.0.0.1";  ///< MASTER_ADDR: host of rank 0's TCPStore
  int master_port = 29500;            ///< MASTER_PORT: its port (torch's default 29500)
  std::string gloo_ifname;            ///< GLOO_SOCKET_IFNAME: network interface for Gloo (default: by address)
};

/// How to connect: backend and the time a collective or the rendezvous may wait.
struct DistOptions {
  std::string backend = "gloo";  ///< "gloo" (CPU tensors) | "nccl" (CUDA tensors; builds with NCCL only)
  double timeout_s = 300;        ///< store, rendezvous and collective timeout in seconds (default 300)
};

/// True when env holds WORLD_SIZE (a launcher started this process).
bool dist_env_present(const std::map<std::string, std::string>& env);

/// DistConfig from the launcher variables in env (name -> value); throws a
/// one-line dvae::Error naming the variable, its value and what was expected.
/// RANK and WORLD_SIZE are required when WORLD_SIZE is present; MASTER_ADDR
/// and MASTER_PORT are required when WORLD_SIZE > 1.
DistConfig dist_config_from_env(const std::map<std::string, std::string>& env);

/// Throws a one-line dvae::Error unless backend is gloo or nccl and timeout_s is in (0, 86400].
void check_dist_options(const DistOptions& options);

/// Whether this build can use backend ("gloo" always; "nccl" on CUDA builds with c10d NCCL).
bool dist_backend_available(const std::string& backend);

/// Rows [offset, offset + count) of a global batch of len rows that rank owns:
/// contiguous, in rank order, sizes differing by at most one (the first
/// len % world ranks get one more).
struct BatchShard {
  int64_t offset = 0;  ///< first row of the global batch
  int64_t count = 0;   ///< rows (may be 0 when len < world)
};
/// The shard of rank among world of a batch of len rows.
BatchShard batch_shard(int64_t len, int rank, int world);

/// A free TCP port on 127.0.0.1 (bound then released; for local launches and tests).
int free_local_port();

/// A connected process group of world_size ranks (one per process, or per thread in tests).
class DataParallel {
 public:
  /// Rendezvous through MASTER_ADDR:MASTER_PORT (rank 0 hosts the TCPStore)
  /// and builds the backend's process group; every rank must call it (with
  /// WORLD_SIZE 1 there is nothing to connect and collectives do nothing; with
  /// more, SIGPIPE is ignored from then on, so that a dead peer is an error). Throws
  /// dvae::Error naming the address, rank and timeout when peers do not come.
  DataParallel(const DistConfig& config, const DistOptions& options);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return config_.rank; }               ///< this process's rank
  int world_size() const { return config_.world_size; }   ///< ranks in the group
  const std::string& backend() const { return options_.backend; }  ///< "gloo" | "nccl"
  double timeout_s() const { return options_.timeout_s; }  ///< collective timeout (s)
  bool is_main() const { return config_.rank == 0; }     ///< rank 0 writes checkpoints and logs

  /// flat [P] <- sum over ranks, in place, as ceil(P / bucket_values) all-reduces
  /// issued together and then awaited (contiguous 1-D tensor). Throws dvae::Error
  /// naming this rank when a peer died or did not answer within the timeout.
  void all_reduce_sum_(const torch::Tensor& flat);
  /// flat <- mean over ranks (the sum above divided by world_size).
  void all_reduce_mean_(const torch::Tensor& flat);
  /// t <- rank root's t on every rank.
  void broadcast_(const torch::Tensor& t, int root = 0);
  /// Returns when every rank has called it (or throws as all_reduce_sum_).
  void barrier();
  /// A differentiable sum over ranks (for batch statistics, models/batch_norm.h):
  /// forward all-reduces a copy of its input, backward all-reduces the gradient.
  /// The group must outlive it.
  BatchSum batch_sum();
  /// Number of all-reduce calls issued so far (tests check the bucketing).
  int64_t all_reduce_calls() const { return all_reduce_calls_; }
  /// Values per all-reduce bucket (default 4M floats = 16 MiB).
  void set_bucket_values(int64_t values);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  DistConfig config_;
  DistOptions options_;
  int64_t bucket_values_ = int64_t{1} << 22;
  int64_t all_reduce_calls_ = 0;
};

}  // namespace dvae
