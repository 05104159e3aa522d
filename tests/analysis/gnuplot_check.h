// Shared by the analysis tests that draw with gnuplot: skip when it is absent.
#pragma once

#include "analysis/plots.h"
#include "core/check.h"

namespace dvae::test {

/// Whether find_gnuplot() finds a gnuplot to run.
inline bool have_gnuplot() {
  try {
    find_gnuplot();
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace dvae::test
