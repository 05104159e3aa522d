// Tests for the output-folder lock.
#include "experiments/run_lock.h"

#include <gtest/gtest.h>

#include "core/check.h"
#include "support/fixtures.h"

namespace dvae {

TEST(RunLock, SecondHolderIsRefusedUntilTheFirstReleases) {
  test::TempDir dir;
  {
    RunLock first(dir.path());
    try {
      RunLock second(dir.path());
      FAIL() << "expected the second lock to be refused";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("another dvae run"), std::string::npos);
    }
  }
  EXPECT_NO_THROW(RunLock again(dir.path()));
}

}  // namespace dvae
