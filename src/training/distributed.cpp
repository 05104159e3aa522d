// DataParallel: TCPStore rendezvous, the c10d process group, bucketed all-reduce.
// ProcessGroupGloo.hpp is compiled only with USE_C10D_GLOO (as LibTorch's own
// build defines it); Debian's libtorch_cpu carries the symbols and links libgloo.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include "training/distributed.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef DVAE_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/check.h"
#include "core/one_line.h"
#include "core/torch_compat.h"

namespace dvae {
namespace {

// An integer environment value in [lo, hi], or a one-line error naming the variable.
int env_int(const std::map<std::string, std::string>& env, const std::string& name, int lo, int hi) {
  const auto it = env.find(name);
  DVAE_CHECK(it != env.end() && !it->second.empty(), name, ": not set, expected an integer in [", lo, ", ", hi,
             "] (set by torchrun, srun's wrapper or dvae train --nproc)");
  const std::string& text = it->second;
  size_t used = 0;
  long long value = 0;
  bool ok = true;
  try {
    value = std::stoll(text, &used, 10);
  } catch (const std::exception&) {
    ok = false;
  }
  DVAE_CHECK(ok && used == text.size() && value >= lo && value <= hi, name, ": '", one_line(text),
             "', expected an integer in [", lo, ", ", hi, "]");
  return static_cast<int>(value);
}

std::string first_line(const std::string& text) {
  const auto end = text.find('\n');
  return one_line(end == std::string::npos ? text : text.substr(0, end));
}

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000.0)));
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

}  // namespace

bool dist_env_present(const std::map<std::string, std::string>& env) {
  const auto it = env.find("WORLD_SIZE");
  return it != env.end() && !it->second.empty();
}

DistConfig dist_config_from_env(const std::map<std::string, std::string>& env) {
  constexpr int kMaxWorld = 1 << 20;
  DistConfig c;
  c.world_size = env_int(env, "WORLD_SIZE", 1, kMaxWorld);
  c.rank = env_int(env, "RANK", 0, c.world_size - 1);
  c.local_rank = env.count("LOCAL_RANK") ? env_int(env, "LOCAL_RANK", 0, kMaxWorld - 1) : c.rank;
  if (c.world_size > 1) {
    const auto addr = env.find("MASTER_ADDR");
    DVAE_CHECK(addr != env.end() && !addr->second.empty(),
               "MASTER_ADDR: not set, expected the host name or address of rank 0 (e.g. 127.0.0.1)");
    c.master_addr = addr->second;
    c.master_port = env_int(env, "MASTER_PORT", 1, 65535);
  }
  if (const auto it = env.find("GLOO_SOCKET_IFNAME"); it != env.end()) c.gloo_ifname = it->second;
  return c;
}

void check_dist_options(const DistOptions& o) {
  DVAE_CHECK(o.backend == "gloo" || o.backend == "nccl", "--dist-backend: '", o.backend,
             "', expected gloo or nccl");
  DVAE_CHECK(std::isfinite(o.timeout_s) && o.timeout_s > 0 && o.timeout_s <= 86400, "--dist-timeout: ", o.timeout_s,
             ", expected seconds in (0, 86400]");
  DVAE_CHECK(dist_backend_available(o.backend), "--dist-backend: '", o.backend,
             "' is not in this build (LibTorch ", compat::torch_version(),
             " without CUDA/NCCL), expected gloo (or a CUDA LibTorch for nccl)");
}

bool dist_backend_available(const std::string& backend) {
  if (backend == "gloo") return true;
#ifdef DVAE_WITH_NCCL
  if (backend == "nccl") return true;
#endif
  return false;
}

BatchShard batch_shard(int64_t len, int rank, int world) {
  DVAE_CHECK(world >= 1 && rank >= 0 && rank < world, "batch shard: rank ", rank, " of ", world,
             ", expected 0 <= rank < world");
  DVAE_CHECK(len >= 0, "batch shard: ", len, " rows, expected >= 0");
  const int64_t base = len / world;
  const int64_t extra = len % world;
  BatchShard s;
  s.count = base + (rank < extra ? 1 : 0);
  s.offset = rank * base + std::min<int64_t>(rank, extra);
  return s;
}

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  DVAE_CHECK(fd >= 0, "free port: socket() failed (", std::strerror(errno), ")");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int err = errno;
  ::close(fd);
  DVAE_CHECK(ok, "free port: cannot bind 127.0.0.1:0 (", std::strerror(err), ")");
  return ntohs(addr.sin_port);
}

namespace {

// y = sum over ranks of x; dL/dx = sum over ranks of dL/dy (every rank's loss depends on y).
struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, int64_t group) {
    ctx->saved_data["group"] = group;
    auto y = x.detach().clone().contiguous().view({-1});
    reinterpret_cast<DataParallel*>(group)->all_reduce_sum_(y);
    return y.view(x.sizes());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* group = reinterpret_cast<DataParallel*>(ctx->saved_data["group"].toInt());
    auto g = grads[0].detach().clone().contiguous();
    group->all_reduce_sum_(g.view({-1}));
    return {g, torch::Tensor()};
  }
};

}  // namespace

struct DataParallel::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<compat::C10dCollectives> group;
};

DataParallel::DataParallel(const DistConfig& config, const DistOptions& options)
    : impl_(std::make_unique<Impl>()), config_(config), options_(options) {
  check_dist_options(options_);
  DVAE_CHECK(config_.world_size >= 1 && config_.rank >= 0 && config_.rank < config_.world_size, "RANK: ",
             config_.rank, " with WORLD_SIZE ", config_.world_size, ", expected 0 <= RANK < WORLD_SIZE");
  if (config_.world_size == 1) return;  // one rank: no store, no group, every collective a no-op
  // Gloo and the store write to sockets whose peer may have died; the write
  // then raises SIGPIPE, which would kill this process before the error below
  // could name the failure. Ignore it, as Python (hence torch.distributed) does.
  std::signal(SIGPIPE, SIG_IGN);
  const auto timeout = to_ms(options_.timeout_s);
  const std::string where = config_.master_addr + ":" + std::to_string(config_.master_port);
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(config_.master_port);
    so.isServer = config_.rank == 0;
    so.numWorkers = static_cast<std::size_t>(config_.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(config_.master_addr, so);
  } catch (const std::exception& e) {
    throw Error("data-parallel rendezvous at " + where + " failed on rank " + std::to_string(config_.rank) + " of " +
                std::to_string(config_.world_size) + " within " + std::to_string(options_.timeout_s) +
                " s (is rank 0 running, MASTER_ADDR/MASTER_PORT right and the port free?): " + first_line(e.what()));
  }
  try {
    if (options_.backend == "gloo") {
      auto o = c10d::ProcessGroupGloo::Options::create(timeout);
      if (!config_.gloo_ifname.empty()) {
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(config_.gloo_ifname));
      } else if (is_loopback(config_.master_addr)) {
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      o->threads = 1;  // one step's buckets at a time; compute threads stay free
      impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, config_.rank, config_.world_size, o);
    } else {
#ifdef DVAE_WITH_NCCL
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = timeout;
      impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, config_.rank, config_.world_size, o);
#endif
    }
  } catch (const std::exception& e) {
    throw Error("data-parallel " + options_.backend + " group of " + std::to_string(config_.world_size) +
                " ranks via " + where + " failed on rank " + std::to_string(config_.rank) + ": " +
                first_line(e.what()));
  }
}

DataParallel::~DataParallel() = default;

void DataParallel::set_bucket_values(int64_t values) {
  DVAE_CHECK(values >= 1, "all-reduce bucket: ", values, " values, expected >= 1");
  bucket_values_ = values;
}

void DataParallel::all_reduce_sum_(const torch::Tensor& flat) {
  DVAE_CHECK(flat.dim() == 1 && flat.is_contiguous(), "all-reduce: a tensor of shape ", flat.sizes(),
             ", expected a contiguous 1-D buffer");
  if (config_.world_size == 1) return;
  const int64_t n = flat.numel();
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try {
    // Every bucket is issued before any is awaited, so Gloo works through them back to back.
    for (int64_t begin = 0; begin < n; begin += bucket_values_) {
      std::vector<at::Tensor> bucket{flat.narrow(0, begin, std::min(bucket_values_, n - begin))};  // [<=bucket]
      works.push_back(impl_->group->allreduce(bucket));
      ++all_reduce_calls_;
    }
    for (auto& work : works) work->wait();
  } catch (const std::exception& e) {
    throw Error("data-parallel all-reduce failed on rank " + std::to_string(config_.rank) + " of " +
                std::to_string(config_.world_size) + " (a peer rank stopped, or did not answer within --dist-timeout " +
                std::to_string(static_cast<int64_t>(options_.timeout_s)) + " s): " + first_line(e.what()));
  }
}

BatchSum DataParallel::batch_sum() {
  const auto group = reinterpret_cast<int64_t>(this);
  return [group](const torch::Tensor& x) { return AllReduceSum::apply(x, group); };
}

void DataParallel::all_reduce_mean_(const torch::Tensor& flat) {
  all_reduce_sum_(flat);
  if (config_.world_size > 1) {
    torch::NoGradGuard no_grad;
    flat.div_(static_cast<double>(config_.world_size));
  }
}

void DataParallel::broadcast_(const torch::Tensor& t, int root) {
  DVAE_CHECK(root >= 0 && root < config_.world_size, "broadcast: root ", root, ", expected a rank below ",
             config_.world_size);
  if (config_.world_size == 1) return;
  try {
    std::vector<at::Tensor> tensors{t};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    impl_->group->broadcast(tensors, o)->wait();
  } catch (const std::exception& e) {
    throw Error("data-parallel broadcast failed on rank " + std::to_string(config_.rank) + " of " +
                std::to_string(config_.world_size) + ": " + first_line(e.what()));
  }
}

void DataParallel::barrier() {
  if (config_.world_size == 1) return;
  try {
    impl_->group->barrier()->wait();
  } catch (const std::exception& e) {
    throw Error("data-parallel barrier failed on rank " + std::to_string(config_.rank) + " of " +
                std::to_string(config_.world_size) + " (a peer rank stopped, or did not answer within --dist-timeout " +
                std::to_string(static_cast<int64_t>(options_.timeout_s)) + " s): " + first_line(e.what()));
  }
}

}  // namespace dvae
