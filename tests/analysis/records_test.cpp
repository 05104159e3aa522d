// Tests for analysis/records: log.jsonl parsing, strict errors.
#include "analysis/records.h"

#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

// Found by fuzz_results (nlohmann casts floats to integers, undefined out of range).
TEST(Records, FloatsWhereIntegersBelongAreErrors) {
  test::TempDir dir;
  write_file_atomic(dir.file("log.jsonl"), "{\"epoch\":1e300,\"train_recon\":1,\"train_kl\":1,\"test_recon\":1,"
                                           "\"test_kl\":1}\n");
  EXPECT_THROW(read_training_log(dir.file("log.jsonl")), Error);
}

TEST(Records, BadLogLinesNameFileAndLine) {
  test::TempDir dir;
  write_file_atomic(dir.file("log.jsonl"), "{\"epoch\":1,\"train_recon\":1,\"train_kl\":1,\"test_recon\":1,"
                                           "\"test_kl\":1}\n{oops\n");
  try {
    read_training_log(dir.file("log.jsonl"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("log.jsonl:2"), std::string::npos) << e.what();
  }
  write_file_atomic(dir.file("m.jsonl"), "{\"epoch\":1,\"train_kl\":1,\"test_recon\":1,\"test_kl\":1}\n");
  EXPECT_THROW(read_training_log(dir.file("m.jsonl")), Error);
  EXPECT_THROW(read_training_log(dir.file("missing.jsonl")), Error);
}

// Found by fuzz_results: an optional key of the wrong type ("beta":{}) threw
// nlohmann's type_error past dvae's errors, a message naming neither file nor key.
TEST(Records, OptionalKeysOfTheWrongTypeAreErrorsNamingThem) {
  test::TempDir dir;
  write_file_atomic(dir.file("log.jsonl"), "{\"epoch\":1,\"train_recon\":1,\"train_kl\":1,\"test_recon\":1,"
                                           "\"test_kl\":1,\"beta\":{}}\n");
  try {
    read_training_log(dir.file("log.jsonl"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(dir.file("log.jsonl") + ": line 1", 0), 0u) << what;
    EXPECT_NE(what.find("key \"beta\""), std::string::npos) << what;
  }
}

TEST(Records, ReadsTrainingLog) {
  test::TempDir dir;
  write_file_atomic(dir.file("log.jsonl"),
                    "{\"epoch\":1,\"train_recon\":150.5,\"train_kl\":10,\"test_recon\":140,\"test_kl\":11,"
                    "\"kl_per_latent\":[5,0.001,6],\"active_latents\":2,\"test_elbo\":-151,\"beta\":4}\n"
                    "{\"epoch\":2,\"train_recon\":120,\"train_kl\":12,\"test_recon\":118,\"test_kl\":12.5,"
                    "\"kl_per_latent\":[6,0.002,6.5],\"active_latents\":2,\"test_elbo\":-130.5,\"beta\":4}\n");
  const auto log = read_training_log(dir.file("log.jsonl"));
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].epoch, 2);
  EXPECT_DOUBLE_EQ(log[0].train_recon, 150.5);
  EXPECT_DOUBLE_EQ(log[1].test_elbo, -130.5);
  EXPECT_EQ(log[1].kl_per_latent, (std::vector<double>{6, 0.002, 6.5}));
}

}  // namespace
}  // namespace dvae
