// Reads settings files in TOML (through toml++) for CLI11's --config option,
// so that every flag can also be set in a file and the command line overrides it.
#pragma once

#include <CLI/CLI.hpp>

namespace dvae::cli {

/// CLI11 config formatter backed by toml++: tables map to subcommands,
/// keys to long option names (dashes or underscores), arrays to repeated values.
class TomlConfig : public CLI::Config {
 public:
  /// Serialises the app's current settings as TOML.
  std::string to_config(const CLI::App* app, bool default_also, bool write_description,
                        std::string prefix) const override;
  /// Parses TOML from input into CLI11's flat list of items; throws CLI::ConversionError
  /// with toml++'s line and column on a syntax error.
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
};

}  // namespace dvae::cli
