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

namespace c10d {
class Work;
}
namespace torch::autograd {
struct Node;
}

namespace dvae {

/// Where this process sits in a data-parallel job (torch.distributed's variables).
struct DistConfig {
  int rank = 0;                       ///< RANK: 0..world_size-1 (default 0)
  int world_size = 1;                 ///< WORLD_SIZE: processes in the job (default 1)
  int local_rank = 0;                 ///< LOCAL_RANK: index on this machine (default = rank)
  std::string master_addr = "127.0.0.1";  ///< MASTER_ADDR: host of rank 0's TCPStore
  int master_port = 29500;            ///< MASTER_PORT: its port (torch's default 29500)
  std::string gloo_ifname;            ///< GLOO_SOCKET_IFNAME: network interface for Gloo (default: by address)
  /// TORCHELASTIC_USE_AGENT_STORE=True (torchrun): its agent already hosts the
  /// store at MASTER_ADDR:MASTER_PORT, so every rank, 0 included, is a client
  /// (default false: rank 0 hosts it).
  bool agent_store = false;
  int restart_count = 0;              ///< TORCHELASTIC_RESTART_COUNT: keys under /worker/attempt_N (agent store)
};

/// How to connect: backend and the time a collective or the rendezvous may wait.
struct DistOptions {
  std::string backend = "gloo";  ///< "gloo" (CPU tensors) | "nccl" (CUDA tensors; builds with NCCL only)
  double timeout_s = 300;        ///< store, rendezvous and collective timeout in seconds (default 300)
  bool overlap = true;           ///< all-reduce gradient buckets during the backward pass (default on)
  int64_t overlap_bucket_values = int64_t{1} << 18;  ///< values per overlapped bucket (default 256K floats = 1 MiB)
};

/// True when env holds WORLD_SIZE (a launcher started this process).
bool dist_env_present(const std::map<std::string, std::string>& env);

/// DistConfig from the launcher variables in env (name -> value); throws a
/// one-line dvae::Error naming the variable, its value and what was expected.
/// RANK and WORLD_SIZE are required when WORLD_SIZE is present; MASTER_ADDR
/// and MASTER_PORT are required when WORLD_SIZE > 1.
DistConfig dist_config_from_env(const std::map<std::string, std::string>& env);

/// Throws a one-line dvae::Error unless backend is gloo or nccl, timeout_s is in
/// (0, 86400] and overlap_bucket_values >= 1.
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
  const DistOptions& options() const { return options_; }  ///< the options it was built with
  bool is_main() const { return config_.rank == 0; }     ///< rank 0 writes checkpoints and logs

  /// flat [P] <- sum over ranks, in place, as ceil(P / bucket_values) all-reduces
  /// issued together and then awaited (contiguous 1-D tensor). Throws dvae::Error
  /// naming this rank when a peer died or did not answer within the timeout.
  void all_reduce_sum_(const torch::Tensor& flat);
  /// Starts t <- sum over ranks, in place, without waiting (contiguous 1-D
  /// tensor that nobody touches until wait_sum_); collectives run in the order
  /// they were started, which must be the same on every rank.
  c10::intrusive_ptr<c10d::Work> start_sum_(const torch::Tensor& t);
  /// Waits for a collective from start_sum_; throws as all_reduce_sum_.
  void wait_sum_(const c10::intrusive_ptr<c10d::Work>& work);
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

/// Overlaps the gradient all-reduce with the backward pass, as DDP's reducer
/// does: the flat gradient buffer is cut at parameter boundaries into buckets
/// of at least bucket_values values (one parameter may make a bucket alone),
/// walking from the LAST parameter backwards, the order in which a backward
/// pass finishes them. Once every parameter of a bucket is marked ready its
/// sum over ranks starts in Gloo's thread while the caller computes the
/// earlier layers' gradients; buckets start strictly in order, so every rank
/// issues the same collectives in the same order whatever its marks, and
/// finish() starts the rest and waits for all. The sums are those of
/// DataParallel::all_reduce_sum_ on the whole buffer (bit-identical with two
/// ranks, where a + b is one rounding either way). With world size 1 it does nothing.
class GradientReducer {
 public:
  /// Buckets over params (in flat_grad's order; each .grad() a view of
  /// flat_grad, as training/flat_optimizer.h binds them). Throws dvae::Error
  /// when a gradient is not such a view or bucket_values < 1.
  GradientReducer(DataParallel& group, const torch::Tensor& flat_grad, const std::vector<torch::Tensor>& params,
                  int64_t bucket_values);
  /// Removes the autograd hooks.
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  /// Marks each parameter ready from a post-hook on its gradient accumulator
  /// (the autograd path: the hook runs once backward() has added its gradient).
  void attach_autograd_hooks();
  /// A step begins: no parameter is ready, no bucket started.
  void begin();
  /// param's gradient is final for this step (its .grad() or the parameter
  /// itself; by data pointer); starts every bucket that is now complete and
  /// next in order. Ignored outside begin()..finish(). Throws dvae::Error for
  /// a tensor that is none of the parameters or one marked twice.
  void mark_ready(const torch::Tensor& grad);
  /// Starts the buckets not yet started (parameters never marked: a rank
  /// without rows) and waits for every bucket; throws as all_reduce_sum_.
  void finish();
  /// Number of buckets.
  int64_t buckets() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  struct Bucket {
    int64_t begin = 0, end = 0;  // values [begin, end) of the flat buffer
    int64_t pending = 0;         // parameters not yet ready in this step
  };
  void mark_index(size_t index);
  void start_ready_buckets();

  DataParallel& group_;
  torch::Tensor flat_grad_;
  std::vector<torch::Tensor> params_;
  std::vector<size_t> bucket_of_;                 // parameter -> bucket
  std::vector<char> ready_;                       // parameter -> marked in this step
  std::vector<Bucket> buckets_;                   // in start order (last parameters first)
  std::vector<c10::intrusive_ptr<c10d::Work>> works_;  // started buckets, in order
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks_;  // accumulator, hook key
  size_t next_ = 0;                               // first bucket not started
  bool active_ = false;                           // between begin() and finish()
};

}  // namespace dvae
