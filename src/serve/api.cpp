// The JSON API's endpoints and their validation (see api.h for the contract).
#include "serve/api.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <stdexcept>

#include "analysis/png.h"
#include "core/check.h"
#include "core/one_line.h"
#include "serve/image_input.h"

namespace dvae {

namespace {

using nlohmann::json;

constexpr size_t kMaxErrorChars = 300;

/// A request the API refuses: HTTP status and a one-line message.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

template <typename... Args>
[[noreturn]] void fail(int status, const Args&... args) {
  throw ApiError(status, detail::concat(args...));
}

// A value from the request, quoted briefly for an error message.
std::string quoted(const json& v) {
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

json parse_object(const std::string& body, const ApiLimits& limits) {
  if (body.empty()) fail(400, "empty body, expected a JSON object");
  json j;
  try {
    j = json::parse(body, [&](int depth, json::parse_event_t, json&) {
      if (depth > limits.max_depth) fail(400, "JSON nested deeper than ", limits.max_depth, " levels");
      return true;
    });
  } catch (const json::exception& e) {
    fail(400, "malformed JSON: ", e.what());
  }
  if (!j.is_object()) fail(400, "body: ", quoted(j), ", expected a JSON object");
  return j;
}

void allow_keys(const json& j, std::initializer_list<const char*> keys) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const bool known = std::any_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; });
    if (known) continue;
    std::string expected;
    for (const char* k : keys) expected += std::string(expected.empty() ? "" : ", ") + k;
    fail(400, "unknown key \"", it.key().substr(0, 40), "\", expected some of: ", expected);
  }
}

int64_t int_field(const json& j, const char* key, int64_t lo, int64_t hi, std::optional<int64_t> fallback = {}) {
  if (!j.contains(key)) {
    if (fallback) return *fallback;
    fail(400, key, ": missing, expected an integer in [", lo, ", ", hi, "]");
  }
  const json& v = j.at(key);
  std::optional<int64_t> value;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(hi)) value = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    value = v.get<int64_t>();
  }
  if (!value || *value < lo || *value > hi) fail(400, key, ": ", quoted(v), ", expected an integer in [", lo, ", ", hi, "]");
  return *value;
}

double real_field(const json& j, const char* key, double lo, double hi, double fallback) {
  if (!j.contains(key)) return fallback;
  const json& v = j.at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= lo || v.get<double>() > hi) {
    fail(400, key, ": ", quoted(v), ", expected a finite number in (", lo, ", ", hi, "]");
  }
  return v.get<double>();
}

bool bool_field(const json& j, const char* key, bool fallback) {
  if (!j.contains(key)) return fallback;
  if (!j.at(key).is_boolean()) fail(400, key, ": ", quoted(j.at(key)), ", expected true or false");
  return j.at(key).get<bool>();
}

const ExplorerModel& model_of(const Explorer& explorer, const json& j) {
  if (!j.contains("model")) return explorer.model(0);
  const json& m = j.at("model");
  const auto n = static_cast<int64_t>(explorer.size());
  if (m.is_string()) {
    if (const ExplorerModel* found = explorer.find(m.get<std::string>())) return *found;
    std::string names;
    for (size_t i = 0; i < explorer.size(); ++i) names += (i ? ", " : "") + explorer.model(i).name();
    fail(404, "model ", quoted(m), ": no such model, expected one of: ", names);
  }
  if (!m.is_number_integer()) fail(400, "model: ", quoted(m), ", expected an index or a name");
  const bool in_range = m.is_number_unsigned() ? m.get<uint64_t>() < static_cast<uint64_t>(n)
                                                : m.get<int64_t>() >= 0 && m.get<int64_t>() < n;
  if (!in_range) fail(404, "model ", quoted(m), ": no such model, expected an index in [0, ", n - 1, "] or a name");
  return explorer.model(m.get<size_t>());
}

// A code for model: [D] floats, each finite with |z| <= max_abs_code.
torch::Tensor code_of(const json& v, const std::string& key, const ExplorerModel& model, const ApiLimits& limits) {
  const int64_t d = model.latent_dim();
  if (!v.is_array()) fail(400, key, ": ", quoted(v), ", expected an array of ", d, " numbers");
  if (static_cast<int64_t>(v.size()) != d) {
    fail(400, key, ": ", v.size(), " values, expected ", d, " (the latent size of model '", model.name(), "')");
  }
  torch::Tensor z = torch::empty({d}, torch::kFloat32);
  float* out = z.data_ptr<float>();
  for (int64_t i = 0; i < d; ++i) {
    const json& e = v.at(static_cast<size_t>(i));
    if (!e.is_number()) fail(400, key, "[", i, "]: ", quoted(e), ", expected a number");
    const double x = e.get<double>();
    if (!std::isfinite(x) || std::abs(x) > limits.max_abs_code) {
      fail(400, key, "[", i, "]: ", quoted(e), ", expected a finite number in [", -limits.max_abs_code, ", ",
           limits.max_abs_code, "]");
    }
    out[i] = static_cast<float>(x);
  }
  return z;
}

// Base64 (RFC 4648, padded) -> bytes; a data: URL prefix is skipped.
std::string base64_decode(const std::string& text) {
  static const std::string kPrefix = "data:image/png;base64,";
  const size_t start = text.compare(0, kPrefix.size(), kPrefix) == 0 ? kPrefix.size() : 0;
  const size_t n = text.size() - start;
  if (n == 0 || n % 4 != 0) fail(400, "png: ", n, " base64 characters, expected a positive multiple of 4");
  std::string out;
  out.reserve(n / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+') v = 62;
    if (c == '/') v = 63;
    if (c == '=' && i + 2 >= text.size()) {
      ++padding;
      continue;
    }
    if (v < 0 || padding > 0) fail(400, "png: character ", i - start, " is not base64, expected A-Z a-z 0-9 + / =");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// The image a request names, as grey levels [S,S] in [0,1].
struct InputImage {
  torch::Tensor grey;   // [S,S]
  int64_t index = -1;   // test image index, or -1
  int64_t label = -1;   // its label, or -1
};

InputImage image_of(const json& j, const Explorer& explorer, const ApiLimits& limits) {
  const int sources = (j.contains("test_index") ? 1 : 0) + (j.contains("pixels") ? 1 : 0) + (j.contains("png") ? 1 : 0);
  if (sources != 1) fail(400, "expected exactly one of test_index, pixels, png (got ", sources, ")");
  if (!j.contains("pixels") && (j.contains("width") || j.contains("height"))) {
    fail(400, "width/height: only with pixels");
  }
  const int64_t side = explorer.image_size();
  const bool fit = bool_field(j, "fit", false);
  InputImage in;
  torch::Tensor grey;
  if (j.contains("test_index")) {
    const ImageSet& test = explorer.test_set();
    in.index = int_field(j, "test_index", 0, test.size() - 1);
    in.label = test.labels[in.index].item<int64_t>();
    grey = test.images[in.index].to(torch::kFloat32).div(255.0);  // [S,S]
  } else if (j.contains("pixels")) {
    const int64_t w = int_field(j, "width", 1, limits.max_image_side);
    const int64_t h = int_field(j, "height", 1, limits.max_image_side);
    const json& p = j.at("pixels");
    if (!p.is_array() || static_cast<int64_t>(p.size()) != w * h) {
      fail(400, "pixels: ", p.is_array() ? std::to_string(p.size()) + " values" : quoted(p), ", expected ", w * h,
           " grey levels in [0, 1] (width x height)");
    }
    grey = torch::empty({h, w}, torch::kFloat32);
    float* out = grey.data_ptr<float>();
    for (int64_t i = 0; i < w * h; ++i) {
      const json& e = p.at(static_cast<size_t>(i));
      const double x = e.is_number() ? e.get<double>() : -1.0;
      if (!(x >= 0.0 && x <= 1.0)) fail(400, "pixels[", i, "]: ", quoted(e), ", expected a grey level in [0, 1]");
      out[i] = static_cast<float>(x);
    }
  } else {
    const json& p = j.at("png");
    if (!p.is_string()) fail(400, "png: ", quoted(p), ", expected a base64 string");
    torch::Tensor pixels;
    try {
      pixels = decode_png(base64_decode(p.get<std::string>()), limits.max_image_side, "png");
    } catch (const Error& e) {
      fail(400, e.what());
    }
    grey = grey_levels(pixels);
  }
  if (fit) {
    in.grey = fit_like_mnist(grey, side);
  } else {
    in.grey = grey.size(0) == side && grey.size(1) == side ? grey : resize_square(grey, side);
  }
  return in;
}

json image_json(const torch::Tensor& image) {  // [S,S] in [0,1]
  const torch::Tensor bytes = to_uint8_image(image).contiguous();
  const uint8_t* p = bytes.data_ptr<uint8_t>();
  return {{"width", bytes.size(1)},
          {"height", bytes.size(0)},
          {"pixels", std::vector<uint8_t>(p, p + bytes.numel())}};
}

std::vector<double> values_of(const torch::Tensor& t) {  // [K] -> K doubles
  const torch::Tensor d = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

void add_prediction(json& out, const Explorer& explorer, const ExplorerModel& model, const torch::Tensor& mu) {
  const torch::Tensor p = model.class_probabilities(mu.unsqueeze(0))[0];  // [D] -> [1,C] -> [C]
  const int64_t c = p.argmax().item<int64_t>();
  out["probabilities"] = values_of(p);
  out["prediction"] = c;
  out["class_name"] = explorer.class_names().at(static_cast<size_t>(c));
}

// One line of JSON; bytes that are not UTF-8 (a request can echo anything) become U+FFFD instead of throwing.
std::string one_line_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

ApiReply reply(const json& j) { return {200, "application/json", one_line_json(j)}; }

ApiReply handle_models(const Explorer& explorer, const std::string&, const ApiLimits& limits) {
  json j = explorer.describe();
  j["limits"] = {{"max_body", limits.max_body},
                 {"max_image_side", limits.max_image_side},
                 {"max_batch", limits.max_batch},
                 {"max_abs_code", limits.max_abs_code},
                 {"max_steps", limits.max_steps}};
  return reply(j);
}

ApiReply handle_decode(const Explorer& explorer, const std::string& body, const ApiLimits& limits) {
  const json j = parse_object(body, limits);
  allow_keys(j, {"model", "code", "codes", "format"});
  const ExplorerModel& model = model_of(explorer, j);
  std::string format = "json";
  if (j.contains("format")) {
    const json& f = j.at("format");
    if (!f.is_string() || (f != "json" && f != "png")) fail(400, "format: ", quoted(f), ", expected \"json\" or \"png\"");
    format = f.get<std::string>();
  }
  if (j.contains("code") == j.contains("codes")) fail(400, "expected exactly one of code, codes");
  torch::Tensor z;
  if (j.contains("code")) {
    z = code_of(j.at("code"), "code", model, limits).unsqueeze(0);  // [D] -> [1,D]
  } else {
    const json& codes = j.at("codes");
    if (!codes.is_array() || codes.empty() || static_cast<int64_t>(codes.size()) > limits.max_batch) {
      fail(400, "codes: ", codes.is_array() ? std::to_string(codes.size()) + " codes" : quoted(codes),
           ", expected an array of 1 to ", limits.max_batch, " codes");
    }
    if (format == "png") fail(400, "format \"png\": one code at a time, expected code instead of codes");
    std::vector<torch::Tensor> rows;
    for (size_t i = 0; i < codes.size(); ++i) {
      rows.push_back(code_of(codes[i], "codes[" + std::to_string(i) + "]", model, limits));
    }
    z = torch::stack(rows);  // B x [D] -> [B,D]
  }
  const torch::Tensor images = model.decode(z);  // [B,D] -> [B,S,S]
  if (format == "png") return {200, "image/png", encode_png(to_uint8_image(images[0]), "decoded image")};
  json out = {{"model", model.name()}};
  if (j.contains("code")) {
    out["image"] = image_json(images[0]);
  } else {
    out["images"] = json::array();
    for (int64_t i = 0; i < images.size(0); ++i) out["images"].push_back(image_json(images[i]));
  }
  return reply(out);
}

ApiReply handle_encode(const Explorer& explorer, const std::string& body, const ApiLimits& limits) {
  const json j = parse_object(body, limits);
  allow_keys(j, {"model", "test_index", "pixels", "width", "height", "png", "fit"});
  const ExplorerModel& model = model_of(explorer, j);
  const InputImage in = image_of(j, explorer, limits);
  const Posterior q = model.encode(in.grey.unsqueeze(0).unsqueeze(0));  // [S,S] -> [1,1,S,S] -> [1,D]
  const torch::Tensor reconstruction = model.decode(q.mu)[0];           // [1,D] -> [S,S]
  json out = {{"model", model.name()},
              {"mu", values_of(q.mu[0])},
              {"logvar", values_of(q.logvar[0])},
              {"input", image_json(in.grey)},
              {"reconstruction", image_json(reconstruction)}};
  if (in.index >= 0) {
    out["test_index"] = in.index;
    out["label"] = in.label;
    out["label_name"] = explorer.class_names().at(static_cast<size_t>(in.label));
  }
  if (model.probe()) add_prediction(out, explorer, model, q.mu[0]);
  return reply(out);
}

ApiReply handle_classify(const Explorer& explorer, const std::string& body, const ApiLimits& limits) {
  const json j = parse_object(body, limits);
  allow_keys(j, {"model", "code", "test_index", "pixels", "width", "height", "png", "fit"});
  const ExplorerModel& model = model_of(explorer, j);
  if (!model.probe()) {
    fail(409, "model '", model.name(), "' has no classifier: start dvae serve with --classifier probe:N");
  }
  torch::Tensor mu;
  if (j.contains("code")) {
    if (j.contains("test_index") || j.contains("pixels") || j.contains("png")) {
      fail(400, "expected a code or an image, not both");
    }
    mu = code_of(j.at("code"), "code", model, limits);
  } else {
    mu = model.encode(image_of(j, explorer, limits).grey.unsqueeze(0).unsqueeze(0)).mu[0];  // [S,S] -> [D]
  }
  json out = {{"model", model.name()}};
  add_prediction(out, explorer, model, mu);
  return reply(out);
}

ApiReply handle_traversal(const Explorer& explorer, const std::string& body, const ApiLimits& limits) {
  const json j = parse_object(body, limits);
  allow_keys(j, {"model", "code", "latent", "steps", "range"});
  const ExplorerModel& model = model_of(explorer, j);
  if (!j.contains("code")) fail(400, "code: missing, expected an array of ", model.latent_dim(), " numbers");
  const torch::Tensor base = code_of(j.at("code"), "code", model, limits);
  const int64_t latent = int_field(j, "latent", 0, model.latent_dim() - 1);
  const int64_t steps = int_field(j, "steps", 2, limits.max_steps, 11);
  const double range = real_field(j, "range", 0.0, limits.max_abs_code, 3.0);
  const torch::Tensor values = torch::linspace(-range, range, steps, torch::kFloat32);  // [S']
  torch::Tensor z = base.unsqueeze(0).repeat({steps, 1});                                // [D] -> [S',D]
  z.select(1, latent).copy_(values);
  const torch::Tensor images = model.decode(z);  // [S',D] -> [S',S,S]
  json out = {{"model", model.name()}, {"latent", latent}, {"values", values_of(values)}, {"images", json::array()}};
  for (int64_t i = 0; i < steps; ++i) out["images"].push_back(image_json(images[i]));
  return reply(out);
}

}  // namespace

const std::vector<ApiEndpoint>& api_endpoints() {
  static const std::vector<ApiEndpoint> endpoints = {
      {"models", "GET", handle_models},
      {"decode", "POST", handle_decode},
      {"encode", "POST", handle_encode},
      {"classify", "POST", handle_classify},
      {"traversal", "POST", handle_traversal},
  };
  return endpoints;
}

ApiReply api_error(int status, const std::string& message) {
  std::string text = one_line(message);
  if (text.size() > kMaxErrorChars) text = text.substr(0, kMaxErrorChars - 3) + "...";
  return {status, "application/json", one_line_json(json{{"error", text}})};
}

ApiReply api_call(const Explorer& explorer, const std::string& name, const std::string& body,
                  const ApiLimits& limits) {
  const auto& endpoints = api_endpoints();
  const auto it = std::find_if(endpoints.begin(), endpoints.end(), [&](const ApiEndpoint& e) { return e.name == name; });
  if (it == endpoints.end()) return api_error(404, "no endpoint /api/" + name.substr(0, 40));
  if (body.size() > limits.max_body) {
    return api_error(413, detail::concat("request body of ", body.size(), " bytes, expected at most ", limits.max_body));
  }
  try {
    return it->handle(explorer, body, limits);
  } catch (const ApiError& e) {
    return api_error(e.status, e.what());
  } catch (const std::bad_alloc&) {
    return api_error(503, "out of memory, try a smaller request");
  } catch (const c10::Error& e) {
    return api_error(500, std::string("internal error: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    return api_error(500, std::string("internal error: ") + e.what());
  }
}

}  // namespace dvae
