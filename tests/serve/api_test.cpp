// Tests of the JSON API in-process (serve/api.h): every malformed input gets
// its 4xx and a one-line JSON error, every endpoint of the registry refuses
// malformed JSON, and valid answers equal what the models compute directly.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <thread>

#include "analysis/png.h"
#include "data/datasets.h"
#include "serve/api.h"
#include "support/checkpoint_fixtures.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

using nlohmann::json;

std::string base64(const std::string& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += std::string{k[(v >> 18) & 63], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += std::string{k[(v >> 18) & 63], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

// Two untrained MLP VAEs on 8x8 synthetic data: "a" (3 latents), "b" (5 latents), with probes
// on 2 labels per class; and the same models without a classifier.
struct ApiWorld {
  test::TempDir dir;
  std::unique_ptr<Explorer> explorer;
  std::unique_ptr<Explorer> plain;
  ApiWorld() {
    test::write_synthetic_mnist(dir.file("data"), 60, 30, 8);
    ModelOptions a;
    a.latent_dim = 3;
    a.mlp_hidden = 8;
    a.image_size = 8;
    ModelOptions b = a;
    b.latent_dim = 5;
    test::save_untrained_vae(dir.file("a.pt"), a, 1.0, 1);
    test::save_untrained_vae(dir.file("b.pt"), b, 4.0, 2);
    const std::vector<ServedCheckpoint> named = {{"a", dir.file("a.pt")}, {"b", dir.file("b.pt")}};
    ExplorerOptions options;
    options.probe_labels = 2;
    options.probe.epochs = 20;
    explorer = std::make_unique<Explorer>(named, load_dataset_dir(dir.file("data")), options);
    plain = std::make_unique<Explorer>(named, load_dataset_dir(dir.file("data")));
  }
};

ApiWorld& world() {
  static ApiWorld w;
  return w;
}

json ok_json(const ApiReply& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  return json::parse(r.body);
}

void expect_one_line_error(const ApiReply& r) {
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body.find('\n'), std::string::npos) << r.body;
  const json j = json::parse(r.body);
  ASSERT_TRUE(j.is_object() && j.size() == 1 && j.contains("error") && j["error"].is_string()) << r.body;
  EXPECT_FALSE(j["error"].get<std::string>().empty());
}

struct BadRequest {
  std::string name;      // test name suffix
  std::string endpoint;  // "decode", ...
  std::string body;
  int status;
  std::string expect;    // substring of the error ("" = any)
};

std::string png_b64(int64_t h, int64_t w) {
  return base64(encode_png(torch::full({h, w}, 200, torch::kUInt8)));
}

std::vector<BadRequest> bad_requests() {
  const std::string codes65 = [] {
    std::string s = "{\"codes\":[";
    for (int i = 0; i < 65; ++i) s += std::string(i ? "," : "") + "[0,0,0]";
    return s + "]}";
  }();
  const std::string truncated_png = [] {
    const std::string png = encode_png(torch::full({8, 8}, 9, torch::kUInt8));
    return base64(png.substr(0, png.size() / 2));
  }();
  return {
      {"EmptyBody", "decode", "", 400, "empty body"},
      {"UnclosedObject", "decode", "{", 400, "malformed JSON"},
      {"NotAnObject", "decode", "[1,2]", 400, "expected a JSON object"},
      {"Null", "decode", "null", 400, "expected a JSON object"},
      {"TrailingGarbage", "decode", "{\"code\":[0,0,0]} x", 400, "malformed JSON"},
      {"BinaryGarbage", "decode", std::string("\x00\xff\x01{", 4), 400, "malformed JSON"},
      {"InvalidUtf8", "decode", "{\"\xff\xfe\":1}", 400, "malformed JSON"},
      {"CodeTooShort", "decode", "{\"code\":[0,0]}", 400, "2 values, expected 3"},
      {"CodeTooLong", "decode", "{\"code\":[0,0,0,0]}", 400, "4 values, expected 3"},
      {"CodeForAnotherModel", "decode", "{\"model\":\"b\",\"code\":[0,0,0]}", 400, "expected 5"},
      {"CodeNotArray", "decode", "{\"code\":\"abc\"}", 400, "expected an array of 3 numbers"},
      {"CodeString", "decode", "{\"code\":[0,\"x\",0]}", 400, "code[1]"},
      {"CodeNull", "decode", "{\"code\":[0,null,0]}", 400, "code[1]"},
      {"CodeNested", "decode", "{\"code\":[[0],[0],[0]]}", 400, "code[0]"},
      {"CodeNaN", "decode", "{\"code\":[0,NaN,0]}", 400, "malformed JSON"},
      {"CodeInfinity", "decode", "{\"code\":[0,Infinity,0]}", 400, "malformed JSON"},
      {"CodeOverflowsDouble", "decode", "{\"code\":[0,1e400,0]}", 400, ""},
      {"CodeAbsurd", "decode", "{\"code\":[0,101,0]}", 400, "expected a finite number in [-100, 100]"},
      {"CodeAbsurdNegative", "decode", "{\"code\":[0,-1e30,0]}", 400, "code[1]"},
      {"UnknownKey", "decode", "{\"code\":[0,0,0],\"extra\":1}", 400, "unknown key \"extra\""},
      {"ModelIndexTooLarge", "decode", "{\"code\":[0,0,0],\"model\":7}", 404, "no such model"},
      {"ModelIndexNegative", "decode", "{\"code\":[0,0,0],\"model\":-1}", 404, "no such model"},
      {"ModelIndexHuge", "decode", "{\"code\":[0,0,0],\"model\":18446744073709551615}", 404, "no such model"},
      {"ModelNameUnknown", "decode", "{\"code\":[0,0,0],\"model\":\"nope\"}", 404, "expected one of: a, b"},
      {"ModelFraction", "decode", "{\"code\":[0,0,0],\"model\":1.5}", 400, "expected an index or a name"},
      {"ModelPath", "decode", "{\"code\":[0,0,0],\"model\":\"../../etc/passwd\"}", 404, "no such model"},
      {"NoCode", "decode", "{}", 400, "exactly one of code, codes"},
      {"CodeAndCodes", "decode", "{\"code\":[0,0,0],\"codes\":[[0,0,0]]}", 400, "exactly one of code, codes"},
      {"CodesEmpty", "decode", "{\"codes\":[]}", 400, "1 to 64 codes"},
      {"CodesTooMany", "decode", codes65, 400, "65 codes"},
      {"CodesBadInner", "decode", "{\"codes\":[[0,0,0],[0,0]]}", 400, "codes[1]"},
      {"FormatUnknown", "decode", "{\"code\":[0,0,0],\"format\":\"gif\"}", 400, "format"},
      {"FormatPngWithCodes", "decode", "{\"codes\":[[0,0,0]],\"format\":\"png\"}", 400, "one code at a time"},
      {"TooDeep", "decode", "{\"code\":[[[[[0]]]]]}", 400, "nested deeper"},
      {"NoImage", "encode", "{}", 400, "exactly one of test_index, pixels, png"},
      {"TwoImages", "encode", "{\"test_index\":0,\"png\":\"AAAA\"}", 400, "exactly one of"},
      {"TestIndexPastEnd", "encode", "{\"test_index\":30}", 400, "expected an integer in [0, 29]"},
      {"TestIndexNegative", "encode", "{\"test_index\":-1}", 400, "test_index"},
      {"TestIndexFraction", "encode", "{\"test_index\":1.0}", 400, "test_index"},
      {"TestIndexString", "encode", "{\"test_index\":\"0\"}", 400, "test_index"},
      {"PixelsWrongCount", "encode", "{\"pixels\":[0.5],\"width\":2,\"height\":2}", 400, "expected 4 grey levels"},
      {"PixelOutOfRange", "encode", "{\"pixels\":[0,0,0,2],\"width\":2,\"height\":2}", 400, "pixels[3]"},
      {"PixelNegative", "encode", "{\"pixels\":[0,-0.1,0,0],\"width\":2,\"height\":2}", 400, "pixels[1]"},
      {"PixelNull", "encode", "{\"pixels\":[0,0,0,null],\"width\":2,\"height\":2}", 400, "pixels[3]"},
      {"PixelsWithoutSize", "encode", "{\"pixels\":[0,0,0,0]}", 400, "width: missing"},
      {"WidthZero", "encode", "{\"pixels\":[],\"width\":0,\"height\":2}", 400, "width"},
      {"WidthHuge", "encode", "{\"pixels\":[],\"width\":100000,\"height\":100000}", 400,
       "expected an integer in [1, 1024]"},
      {"SizeWithoutPixels", "encode", "{\"test_index\":0,\"width\":8}", 400, "only with pixels"},
      {"FitNotBool", "encode", "{\"test_index\":0,\"fit\":\"yes\"}", 400, "fit"},
      {"PngNotString", "encode", "{\"png\":5}", 400, "expected a base64 string"},
      {"PngNotBase64", "encode", "{\"png\":\"not base64!\"}", 400, "base64"},
      {"PngBadLength", "encode", "{\"png\":\"AAA\"}", 400, "multiple of 4"},
      {"PngNotPng", "encode", "{\"png\":\"AAAAAAAA\"}", 400, "expected a PNG file"},
      {"PngTruncated", "encode", "{\"png\":\"" + truncated_png + "\"}", 400, "png"},
      {"PngTooWide", "encode", "{\"png\":\"" + png_b64(1, 2000) + "\"}", 400, "at most 1024x1024"},
      {"PngDataUrlNotBase64", "encode", "{\"png\":\"data:image/png;base64,@@@@\"}", 400, "base64"},
      {"ClassifyCodeAndImage", "classify", "{\"code\":[0,0,0],\"test_index\":0}", 400, "not both"},
      {"ClassifyBadCode", "classify", "{\"code\":[0,0]}", 400, "expected 3"},
      {"TraversalNoLatent", "traversal", "{\"code\":[0,0,0]}", 400, "latent: missing"},
      {"TraversalNoCode", "traversal", "{\"latent\":0}", 400, "code: missing"},
      {"TraversalLatentPastEnd", "traversal", "{\"code\":[0,0,0],\"latent\":3}", 400, "[0, 2]"},
      {"TraversalOneStep", "traversal", "{\"code\":[0,0,0],\"latent\":0,\"steps\":1}", 400, "steps"},
      {"TraversalTooManySteps", "traversal", "{\"code\":[0,0,0],\"latent\":0,\"steps\":65}", 400, "[2, 64]"},
      {"TraversalZeroRange", "traversal", "{\"code\":[0,0,0],\"latent\":0,\"range\":0}", 400, "range"},
      {"TraversalHugeRange", "traversal", "{\"code\":[0,0,0],\"latent\":0,\"range\":1e9}", 400, "range"},
      {"UnknownEndpoint", "../../etc/passwd", "{}", 404, "no endpoint"},
  };
}

// One test over every case (each ctest process pays ~1 s to load LibTorch): the case names the failure.
TEST(ServeApi, EveryMalformedInputGetsItsStatusAndAOneLineJsonError) {
  for (const BadRequest& c : bad_requests()) {
    SCOPED_TRACE(c.name);
    const ApiReply r = api_call(*world().explorer, c.endpoint, c.body);
    EXPECT_EQ(r.status, c.status) << r.body;
    expect_one_line_error(r);
    const std::string error = json::parse(r.body).value("error", "");
    EXPECT_NE(error.find(c.expect), std::string::npos) << error;
  }
}

// The contract of every registered POST endpoint: malformed JSON, a non-object and unknown keys are 400s.
class ServeApiEndpoint : public testing::TestWithParam<std::string> {};

TEST_P(ServeApiEndpoint, RefusesMalformedJsonAndUnknownKeys) {
  for (const std::string body : {"{\"a\":", "42", "{\"no_such_key\":1}", "{\"model\":{}}"}) {
    const ApiReply r = api_call(*world().explorer, GetParam(), body);
    EXPECT_EQ(r.status, 400) << GetParam() << " " << body << ": " << r.body;
    expect_one_line_error(r);
  }
}

std::vector<std::string> post_endpoints() {
  std::vector<std::string> names;
  for (const auto& e : api_endpoints()) {
    if (e.method == "POST") names.push_back(e.name);
  }
  return names;
}

INSTANTIATE_TEST_SUITE_P(Registry, ServeApiEndpoint, testing::ValuesIn(post_endpoints()),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(ServeApi, BodiesOverTheLimitAre413) {
  ApiLimits limits;
  limits.max_body = 16;
  const ApiReply r = api_call(*world().explorer, "decode", "{\"code\":[0,0,0]}   ", limits);
  EXPECT_EQ(r.status, 413);
  expect_one_line_error(r);
}

TEST(ServeApi, ClassifyWithoutAClassifierIs409) {
  const ApiReply r = api_call(*world().plain, "classify", "{\"code\":[0,0,0]}");
  EXPECT_EQ(r.status, 409);
  expect_one_line_error(r);
  EXPECT_NE(r.body.find("--classifier probe:N"), std::string::npos) << r.body;
  const json enc = ok_json(api_call(*world().plain, "encode", "{\"test_index\":0}"));
  EXPECT_FALSE(enc.contains("probabilities"));
}

TEST(ServeApi, ModelsDescribesEveryModelAndTheLimits) {
  const json j = ok_json(api_call(*world().explorer, "models", ""));
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["image_size"], 8);
  EXPECT_EQ(j["test_images"], 30);
  EXPECT_EQ(j["class_names"].size(), 10u);
  EXPECT_EQ(j["limits"]["max_batch"], 64);
  const json& b = j["models"][1];
  EXPECT_EQ(b["name"], "b");
  EXPECT_EQ(b["latent_dim"], 5);
  EXPECT_EQ(b["beta"], 4.0);
  EXPECT_EQ(b["checkpoint"], "b.pt");  // the file name only, never the folder
  EXPECT_EQ(b["kl_source"], "test set");
  std::vector<int64_t> order = b["order"].get<std::vector<int64_t>>();
  const auto kl = b["kl_per_latent"].get<std::vector<double>>();
  ASSERT_EQ(kl.size(), 5u);
  for (size_t i = 1; i < order.size(); ++i) EXPECT_GE(kl[order[i - 1]], kl[order[i]]);
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(b["classifier"]["kind"], "probe");
  EXPECT_EQ(b["classifier"]["train_images"], 20);
}

TEST(ServeApi, DecodeAnswersTheModelsImageAsJsonOrPng) {
  const Explorer& ex = *world().explorer;
  const torch::Tensor z = torch::tensor({0.5f, -1.0f, 2.0f}).unsqueeze(0);
  const torch::Tensor want = to_uint8_image(ex.model(0).decode(z)[0]);  // [8,8]
  const json j = ok_json(api_call(ex, "decode", "{\"code\":[0.5,-1,2]}"));
  EXPECT_EQ(j["model"], "a");
  EXPECT_EQ(j["image"]["width"], 8);
  EXPECT_EQ(j["image"]["height"], 8);
  const auto pixels = j["image"]["pixels"].get<std::vector<uint8_t>>();
  ASSERT_EQ(pixels.size(), 64u);
  for (int64_t i = 0; i < 64; ++i) EXPECT_EQ(pixels[i], want.flatten()[i].item<uint8_t>());
  const ApiReply png = api_call(ex, "decode", "{\"model\":\"a\",\"code\":[0.5,-1,2],\"format\":\"png\"}");
  ASSERT_EQ(png.status, 200);
  EXPECT_EQ(png.content_type, "image/png");
  EXPECT_TRUE(torch::equal(decode_png(png.body, 64), want));
  const json many = ok_json(api_call(ex, "decode", "{\"model\":1,\"codes\":[[0,0,0,0,0],[1,1,1,1,1],[2,2,2,2,2]]}"));
  EXPECT_EQ(many["images"].size(), 3u);
}

TEST(ServeApi, EncodeGivesTheEncoderMeanReconstructionLabelAndPrediction) {
  const Explorer& ex = *world().explorer;
  const json j = ok_json(api_call(ex, "encode", "{\"model\":\"b\",\"test_index\":7}"));
  const torch::Tensor x = ex.test_set().images[7].to(torch::kFloat32).div(255.0).view({1, 1, 8, 8});
  const Posterior q = ex.model(1).encode(x);
  const auto mu = j["mu"].get<std::vector<double>>();
  ASSERT_EQ(mu.size(), 5u);
  for (int64_t d = 0; d < 5; ++d) EXPECT_NEAR(mu[d], q.mu[0][d].item<double>(), 1e-6);
  EXPECT_EQ(j["logvar"].size(), 5u);
  EXPECT_EQ(j["label"], ex.test_set().labels[7].item<int64_t>());
  EXPECT_EQ(j["test_index"], 7);
  const torch::Tensor recon = to_uint8_image(ex.model(1).decode(q.mu)[0]).flatten();
  const auto got = j["reconstruction"]["pixels"].get<std::vector<uint8_t>>();
  for (int64_t i = 0; i < 64; ++i) EXPECT_EQ(got[i], recon[i].item<uint8_t>());
  const auto p = j["probabilities"].get<std::vector<double>>();
  ASSERT_EQ(p.size(), 10u);
  EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-5);
  EXPECT_EQ(j["prediction"], std::max_element(p.begin(), p.end()) - p.begin());
  // classify on the same mean gives the same probabilities.
  const json c = ok_json(api_call(ex, "classify", json{{"model", "b"}, {"code", mu}}.dump()));
  const auto pc = c["probabilities"].get<std::vector<double>>();
  for (size_t k = 0; k < 10; ++k) EXPECT_NEAR(pc[k], p[k], 1e-6);
}

TEST(ServeApi, PixelsPngAndTestIndexOfTheSameImageGiveTheSameCode) {
  const Explorer& ex = *world().explorer;
  const torch::Tensor image = ex.test_set().images[3];  // uint8 [8,8]
  json pixels = json::array();
  for (int64_t i = 0; i < 64; ++i) pixels.push_back(image.flatten()[i].item<int>() / 255.0);
  const json a = ok_json(api_call(ex, "encode", "{\"test_index\":3}"));
  const json b = ok_json(api_call(ex, "encode", json{{"pixels", pixels}, {"width", 8}, {"height", 8}}.dump()));
  const json c = ok_json(api_call(ex, "encode", json{{"png", "data:image/png;base64," + base64(encode_png(image))}}.dump()));
  for (size_t d = 0; d < 3; ++d) {
    EXPECT_NEAR(a["mu"][d].get<double>(), b["mu"][d].get<double>(), 1e-5);
    EXPECT_NEAR(a["mu"][d].get<double>(), c["mu"][d].get<double>(), 1e-5);
  }
  // A large drawing is resized (or fitted) to the model's 8x8.
  const torch::Tensor big = torch::zeros({100, 60}, torch::kUInt8);
  big.slice(0, 10, 50).slice(1, 5, 25).fill_(255);
  for (const bool fit : {false, true}) {
    const json f = ok_json(api_call(ex, "encode", json{{"png", base64(encode_png(big))}, {"fit", fit}}.dump()));
    EXPECT_EQ(f["input"]["width"], 8);
    EXPECT_EQ(f["input"]["pixels"].size(), 64u);
  }
}

TEST(ServeApi, TraversalSetsOneLatentToEachValue) {
  const Explorer& ex = *world().explorer;
  const json j = ok_json(api_call(ex, "traversal", "{\"code\":[0.1,0.2,0.3],\"latent\":1,\"steps\":5,\"range\":2}"));
  EXPECT_EQ(j["latent"], 1);
  const auto values = j["values"].get<std::vector<double>>();
  ASSERT_EQ(values.size(), 5u);
  EXPECT_DOUBLE_EQ(values[0], -2.0);
  EXPECT_DOUBLE_EQ(values[2], 0.0);
  EXPECT_DOUBLE_EQ(values[4], 2.0);
  ASSERT_EQ(j["images"].size(), 5u);
  const torch::Tensor z = torch::tensor({0.1f, -2.0f, 0.3f}).unsqueeze(0);
  const torch::Tensor first = to_uint8_image(ex.model(0).decode(z)[0]).flatten();
  const auto got = j["images"][0]["pixels"].get<std::vector<uint8_t>>();
  for (int64_t i = 0; i < 64; ++i) EXPECT_EQ(got[i], first[i].item<uint8_t>());
  const json d = ok_json(api_call(ex, "traversal", "{\"code\":[0,0,0],\"latent\":2}"));
  EXPECT_EQ(d["images"].size(), 11u);  // default 11 steps over [-3, 3]
  EXPECT_DOUBLE_EQ(d["values"][0].get<double>(), -3.0);
}

TEST(ServeApi, ConcurrentCallsGiveTheSameAnswersAsOneAtATime) {
  const Explorer& ex = *world().explorer;
  const std::vector<std::string> bodies = {"{\"code\":[0.5,-1,2]}", "{\"model\":1,\"code\":[1,0,0,0,-1]}",
                                           "{\"model\":1,\"code\":[0,0,3,0,0]}"};
  std::vector<std::string> want;
  for (const auto& b : bodies) want.push_back(api_call(ex, "decode", b).body);
  const std::string want_enc = api_call(ex, "encode", "{\"model\":1,\"test_index\":4}").body;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const size_t k = static_cast<size_t>(t + i) % bodies.size();
        if (api_call(ex, "decode", bodies[k]).body != want[k]) ++mismatches;
        if (i % 8 == 0 && api_call(ex, "encode", "{\"model\":1,\"test_index\":4}").body != want_enc) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace dvae
