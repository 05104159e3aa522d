// Tests for analysis/records: results.jsonl and log.jsonl parsing, strict errors.
#include "analysis/records.h"

#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/check.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

TEST(Records, ReadsResultsLines) {
  test::TempDir dir;
  write_file_atomic(dir.file("results.jsonl"),
                    "{\"arch\":\"mlp\",\"model\":\"disentangled\",\"beta\":4,\"n\":1,\"trial\":2,\"seed\":9,"
                    "\"accuracy\":0.625,\"confusion\":[[1,0],[1,2]],\"predictions\":[0,1,1]}\n"
                    "\n"
                    "{\"arch\":\"cnn\",\"model\":\"supervised\",\"beta\":0,\"n\":-1,\"trial\":0,\"accuracy\":0.99}\n");
  const auto rows = read_accuracy_records(dir.file("results.jsonl"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].arch, "mlp");
  EXPECT_EQ(rows[0].model, "disentangled");
  EXPECT_DOUBLE_EQ(rows[0].beta, 4.0);
  EXPECT_EQ(rows[0].n, 1);
  EXPECT_EQ(rows[0].trial, 2);
  EXPECT_DOUBLE_EQ(rows[0].accuracy, 0.625);
  EXPECT_EQ(rows[0].confusion, (std::vector<std::vector<int64_t>>{{1, 0}, {1, 2}}));
  EXPECT_EQ(rows[0].predictions, (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(rows[1].n, -1);
  EXPECT_TRUE(rows[1].predictions.empty());
}

TEST(Records, BadLinesNameFileAndLine) {
  test::TempDir dir;
  write_file_atomic(dir.file("r.jsonl"), "{\"arch\":\"mlp\",\"model\":\"x\",\"n\":1,\"accuracy\":0.5}\n{oops\n");
  try {
    read_accuracy_records(dir.file("r.jsonl"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("r.jsonl:2"), std::string::npos) << e.what();
  }
  write_file_atomic(dir.file("a.jsonl"), "{\"arch\":\"mlp\",\"model\":\"x\",\"n\":1,\"accuracy\":1.5}\n");
  EXPECT_THROW(read_accuracy_records(dir.file("a.jsonl")), Error);
  write_file_atomic(dir.file("m.jsonl"), "{\"arch\":\"mlp\",\"n\":1,\"accuracy\":0.5}\n");
  EXPECT_THROW(read_accuracy_records(dir.file("m.jsonl")), Error);
  EXPECT_THROW(read_accuracy_records(dir.file("missing.jsonl")), Error);
}

// Found by fuzz_results (nlohmann casts floats to integers, undefined out of range).
TEST(Records, FloatsWhereIntegersBelongAreErrors) {
  test::TempDir dir;
  for (const std::string line : {"{\"arch\":\"mlp\",\"model\":\"x\",\"n\":1e300,\"accuracy\":0.5}",
                                 "{\"arch\":\"mlp\",\"model\":\"x\",\"n\":1,\"trial\":-1e40,\"accuracy\":0.5}",
                                 "{\"arch\":\"mlp\",\"model\":\"x\",\"n\":1,\"accuracy\":0.5,\"confusion\":[[6.6e49]]}",
                                 "{\"arch\":\"mlp\",\"model\":\"x\",\"n\":1,\"accuracy\":0.5,\"predictions\":[0.5]}"}) {
    write_file_atomic(dir.file("r.jsonl"), line + "\n");
    EXPECT_THROW(read_accuracy_records(dir.file("r.jsonl")), Error) << line;
  }
  write_file_atomic(dir.file("log.jsonl"), "{\"epoch\":1e300,\"train_recon\":1,\"train_kl\":1,\"test_recon\":1,"
                                           "\"test_kl\":1}\n");
  EXPECT_THROW(read_training_log(dir.file("log.jsonl")), Error);
}

// Found by fuzz_results: an optional key of the wrong type ("beta":[[2,0]]) threw
// nlohmann's type_error past dvae's errors, a message naming neither file nor key.
TEST(Records, OptionalKeysOfTheWrongTypeAreErrorsNamingThem) {
  test::TempDir dir;
  for (const std::string line : {"{\"arch\":\"mlp\",\"model\":\"x\",\"n\":1,\"accuracy\":0.5,\"beta\":[[2,0]]}",
                                 "{\"arch\":\"mlp\",\"model\":\"x\",\"n\":1,\"accuracy\":0.5,\"trial\":\"0\"}"}) {
    write_file_atomic(dir.file("r.jsonl"), line + "\n");
    try {
      read_accuracy_records(dir.file("r.jsonl"));
      FAIL() << "expected an error: " << line;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(dir.file("r.jsonl") + ": record 1: key \"", 0), 0u) << what;
    }
  }
  write_file_atomic(dir.file("log.jsonl"), "{\"epoch\":1,\"train_recon\":1,\"train_kl\":1,\"test_recon\":1,"
                                           "\"test_kl\":1,\"beta\":{}}\n");
  try {
    read_training_log(dir.file("log.jsonl"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("key \"beta\""), std::string::npos) << e.what();
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
