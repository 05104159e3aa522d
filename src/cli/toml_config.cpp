// toml++-backed CLI11 configuration reader.
#include "cli/toml_config.h"

#include <sstream>
#include <toml++/toml.h>

#include "core/one_line.h"

namespace dvae::cli {

namespace {

std::string scalar_to_string(const toml::node& node) {
  if (auto s = node.as_string()) return s->get();
  if (auto i = node.as_integer()) return std::to_string(i->get());
  if (auto f = node.as_floating_point()) {
    std::ostringstream out;
    out.precision(17);
    out << f->get();
    return out.str();
  }
  if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
  throw CLI::ConversionError("TOML value of unsupported type (dates, times and nested arrays are not settings)");
}

void flatten(const toml::table& table, std::vector<std::string> parents, std::vector<CLI::ConfigItem>& items) {
  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    if (auto sub = node.as_table()) {
      auto next = parents;
      next.push_back(name);
      flatten(*sub, next, items);
      continue;
    }
    CLI::ConfigItem item;
    item.parents = parents;
    item.name = name;
    for (auto& ch : item.name)
      if (ch == '_') ch = '-';
    if (auto arr = node.as_array()) {
      for (auto&& element : *arr) item.inputs.push_back(scalar_to_string(element));
    } else {
      item.inputs.push_back(scalar_to_string(node));
    }
    items.push_back(std::move(item));
  }
}

}  // namespace

std::string TomlConfig::to_config(const CLI::App* app, bool default_also, bool write_description,
                                  std::string prefix) const {
  return CLI::ConfigTOML().to_config(app, default_also, write_description, std::move(prefix));
}

std::vector<CLI::ConfigItem> TomlConfig::from_config(std::istream& input) const {
  std::ostringstream text;
  text << input.rdbuf();
  toml::table table;
  try {
    table = toml::parse(text.str());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "TOML syntax error at line " << e.source().begin.line << ", column " << e.source().begin.column
        << ": " << one_line(e.description());
    throw CLI::ConversionError(msg.str());
  }
  std::vector<CLI::ConfigItem> items;
  flatten(table, {}, items);
  return items;
}

}  // namespace dvae::cli
