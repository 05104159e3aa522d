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

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
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
  // torchrun's agent hosts the store itself (torch/distributed/rendezvous.py does the same).
  if (const auto it = env.find("TORCHELASTIC_USE_AGENT_STORE"); it != env.end() && it->second == "True") {
    c.agent_store = true;
    c.restart_count = env_int(env, "TORCHELASTIC_RESTART_COUNT", 0, kMaxWorld);
  }
  return c;
}

void check_dist_options(const DistOptions& o) {
  DVAE_CHECK(o.backend == "gloo" || o.backend == "nccl", "--dist-backend: '", o.backend,
             "', expected gloo or nccl");
  DVAE_CHECK(std::isfinite(o.timeout_s) && o.timeout_s > 0 && o.timeout_s <= 86400, "--dist-timeout: ", o.timeout_s,
             ", expected seconds in (0, 86400]");
  DVAE_CHECK(o.overlap_bucket_values >= 1, "all-reduce bucket: ", o.overlap_bucket_values,
             " values, expected >= 1");
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
    so.isServer = config_.rank == 0 && !config_.agent_store;
    so.numWorkers = static_cast<std::size_t>(config_.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(config_.master_addr, so);
    if (config_.agent_store) {
      impl_->store = c10::make_intrusive<c10d::PrefixStore>(
          "/worker/attempt_" + std::to_string(config_.restart_count), impl_->store);
    }
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

namespace {
std::string collective_failed(int rank, int world, double timeout_s, const std::exception& e) {
  return "data-parallel all-reduce failed on rank " + std::to_string(rank) + " of " + std::to_string(world) +
         " (a peer rank stopped, or did not answer within --dist-timeout " +
         std::to_string(static_cast<int64_t>(timeout_s)) + " s): " + first_line(e.what());
}
}  // namespace

c10::intrusive_ptr<c10d::Work> DataParallel::start_sum_(const torch::Tensor& t) {
  DVAE_CHECK(t.dim() == 1 && t.is_contiguous(), "all-reduce: a tensor of shape ", t.sizes(),
             ", expected a contiguous 1-D buffer");
  DVAE_CHECK(config_.world_size > 1, "all-reduce: start_sum_ with world size 1, expected a group of >= 2 ranks");
  try {
    std::vector<at::Tensor> tensors{t};
    auto work = impl_->group->allreduce(tensors);
    ++all_reduce_calls_;
    return work;
  } catch (const std::exception& e) {
    throw Error(collective_failed(config_.rank, config_.world_size, options_.timeout_s, e));
  }
}

void DataParallel::wait_sum_(const c10::intrusive_ptr<c10d::Work>& work) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    throw Error(collective_failed(config_.rank, config_.world_size, options_.timeout_s, e));
  }
}

GradientReducer::GradientReducer(DataParallel& group, const torch::Tensor& flat_grad,
                                 const std::vector<torch::Tensor>& params, int64_t bucket_values)
    : group_(group), flat_grad_(flat_grad), params_(params) {
  DVAE_CHECK(bucket_values >= 1, "all-reduce bucket: ", bucket_values, " values, expected >= 1");
  DVAE_CHECK(flat_grad.dim() == 1 && flat_grad.is_contiguous() && flat_grad.scalar_type() == torch::kFloat32,
             "gradient reducer: a flat gradient of shape ", flat_grad.sizes(), ", expected a contiguous float [P]");
  // Each parameter's [begin, end) in the flat buffer, from its gradient view.
  std::vector<std::pair<int64_t, int64_t>> ranges;
  const auto* base = flat_grad.data_ptr<float>();
  for (size_t i = 0; i < params_.size(); ++i) {
    const torch::Tensor& g = params_[i].grad();
    DVAE_CHECK(g.defined() && g.is_contiguous() && g.scalar_type() == torch::kFloat32, "gradient reducer: parameter ",
               i, " has no contiguous float gradient, expected views of the optimiser's flat gradient");
    const int64_t begin = g.data_ptr<float>() - base;
    DVAE_CHECK(begin >= 0 && begin + g.numel() <= flat_grad.numel() &&
                   (i == 0 ? begin == 0 : begin == ranges.back().second),
               "gradient reducer: parameter ", i, "'s gradient is not the next view of the flat gradient buffer");
    ranges.emplace_back(begin, begin + g.numel());
  }
  DVAE_CHECK(params_.empty() || ranges.back().second == flat_grad.numel(), "gradient reducer: the parameters cover ",
             ranges.empty() ? 0 : ranges.back().second, " of ", flat_grad.numel(), " gradient values");
  // Buckets from the last parameter backwards, closed once they hold bucket_values.
  bucket_of_.assign(params_.size(), 0);
  for (size_t k = params_.size(); k-- > 0;) {
    if (buckets_.empty() || buckets_.back().end - buckets_.back().begin >= bucket_values) {
      buckets_.push_back({ranges[k].first, ranges[k].second, 0});
    }
    buckets_.back().begin = ranges[k].first;
    bucket_of_[k] = buckets_.size() - 1;
  }
  ready_.assign(params_.size(), 0);
}

GradientReducer::~GradientReducer() {
  for (auto& [node, key] : hooks_) node->del_post_hook(key);
  // Buckets still in flight (a step that threw) finish in Gloo's thread before
  // their tensors could go; wait for them, ignoring a peer's failure here.
  for (size_t i = 0; i < works_.size(); ++i) {
    try {
      works_[i]->wait();
    } catch (const std::exception&) {
    }
  }
}

void GradientReducer::attach_autograd_hooks() {
  for (size_t i = 0; i < params_.size(); ++i) {
    // The accumulator lives as long as a graph or a holder does: holding it
    // here keeps the hook for every later backward pass.
    std::shared_ptr<torch::autograd::Node> acc = torch::autograd::impl::grad_accumulator(params_[i]);
    DVAE_CHECK(acc != nullptr, "gradient reducer: parameter ", i, " has no gradient accumulator, expected a leaf");
    const uintptr_t key = acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [this, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          mark_index(i);
          return outputs;
        }));
    hooks_.emplace_back(std::move(acc), key);
  }
}

void GradientReducer::begin() {
  DVAE_CHECK(!active_, "gradient reducer: begin() twice without finish()");
  std::fill(ready_.begin(), ready_.end(), 0);
  for (auto& b : buckets_) b.pending = 0;
  for (size_t k = 0; k < params_.size(); ++k) ++buckets_[bucket_of_[k]].pending;
  works_.clear();
  next_ = 0;
  active_ = group_.world_size() > 1;
}

void GradientReducer::mark_ready(const torch::Tensor& grad) {
  if (!active_) return;
  const void* ptr = grad.data_ptr();
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].grad().data_ptr() == ptr || params_[i].data_ptr() == ptr) return mark_index(i);
  }
  throw Error("gradient reducer: a tensor of shape " + std::string(c10::str(grad.sizes())) +
              " is none of the parameters' gradients, expected one of the optimiser's views");
}

void GradientReducer::mark_index(size_t index) {
  if (!active_) return;
  DVAE_CHECK(!ready_[index], "gradient reducer: parameter ", index, " marked ready twice in one step");
  ready_[index] = 1;
  --buckets_[bucket_of_[index]].pending;
  start_ready_buckets();
}

void GradientReducer::start_ready_buckets() {
  while (next_ < buckets_.size() && buckets_[next_].pending == 0) {
    const Bucket& b = buckets_[next_++];
    works_.push_back(group_.start_sum_(flat_grad_.narrow(0, b.begin, b.end - b.begin)));  // [bucket]
  }
}

void GradientReducer::finish() {
  if (!active_) return;
  while (next_ < buckets_.size()) {
    const Bucket& b = buckets_[next_++];
    works_.push_back(group_.start_sum_(flat_grad_.narrow(0, b.begin, b.end - b.begin)));  // [bucket]
  }
  active_ = false;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  works.swap(works_);
  for (const auto& work : works) group_.wait_sum_(work);
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
