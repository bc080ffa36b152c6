// ckpt inspect PATH [--json]
#include <algorithm>
#include <cstdio>
#include <map>

#include "lib/str_util.h"
#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ckpt/checkpoint.h"
#include "ckpt/gguf.h"
#include "ckpt/text.h"
#include "cli/common.h"

namespace ckpt::cli {
namespace {

struct InspectArgs {
  std::string path;
  bool json = false;
  bool markdown = false;
  bool strict = false;
};

std::string ShapeText(absl::Span<const uint64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) StrAppend(&s, i ? ", " : "", shape[i]);
  return s + "]";
}

// Long values are cut for the human view (the JSON view is complete).
std::string Clip(const std::string& s, size_t max = 160) {
  std::string e = EscapeForDisplay(s);
  if (e.size() <= max) return e;
  return StrCat(e.substr(0, max), "… (", s.size(), " bytes)");
}

nlohmann::ordered_json ToJson(const Checkpoint& c) {
  nlohmann::ordered_json j;
  j["path"] = c.path();
  j["format"] = c.format();
  j["version"] = c.version() ? nlohmann::ordered_json(*c.version()) : nlohmann::ordered_json(nullptr);
  j["metadata"] = c.metadata();
  const bool multi_file = c.files().size() > 1 || c.details().contains("shards");
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  for (size_t i = 0; i < c.tensors().size(); ++i) {
    const TensorView& t = c.tensors()[i];
    nlohmann::ordered_json e;
    e["name"] = t.name;
    e["dtype"] = DTypeName(t.dtype);
    e["shape"] = std::vector<uint64_t>(t.shape.begin(), t.shape.end());
    e["offset"] = t.offset;
    e["nbytes"] = t.nbytes();
    if (multi_file) e["file"] = c.tensor_file(i);
    if (!c.gguf_files().empty()) {
      // ggml order, exactly the stored number of dimensions.
      e["ne"] = std::vector<uint64_t>(t.shape.rbegin(), t.shape.rend());
    }
    tensors.push_back(std::move(e));
  }
  j["tensors"] = std::move(tensors);
  for (const auto& [k, v] : c.details().items()) j[k] = v;
  j["warnings"] = c.warnings();
  return j;
}

// A GGUF value for a table cell: strings cut at 60 characters and arrays at
// 6 elements, as gguf_dump does.
std::string GgufCell(const GgufFile& f, const GgufValue& v) {
  constexpr uint64_t kItems = 6;
  if (v.type == GgufType::kString) return Clip(std::string(f.ReadString(v)), 60);
  std::string text = DumpJson(f.ToJson(v, kItems));
  if (v.type == GgufType::kArray && v.count > kItems) {
    text.pop_back();
    StrAppend(&text, ", ... (", v.count, " items)]");
  }
  return Clip(text);
}

std::string GgufTypeText(const GgufValue& v) {
  if (v.type != GgufType::kArray) return std::string(GgufTypeName(v.type));
  return StrCat("arr[", GgufTypeName(v.elem_type), "]");
}

// Tensors of one repeated block ("blk.3.attn_q.weight" → "blk.3"), or the
// name's first part.
std::string TensorGroup(std::string_view name) {
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return std::string(name);
  if (name.substr(0, dot) == "blk") {
    const size_t next = name.find('.', dot + 1);
    return std::string(name.substr(0, next));
  }
  return std::string(name.substr(0, dot));
}

void PrintGgufKvs(const GgufFile& f, bool markdown) {
  if (markdown) {
    std::printf("\n## Metadata (%zu keys)\n\n| # | type | count | key | value |\n|--:|---|--:|---|---|\n",
                f.kvs().size());
  } else {
    std::printf("\nmetadata (%zu keys)\n", f.kvs().size());
  }
  for (size_t i = 0; i < f.kvs().size(); ++i) {
    const GgufKv& kv = f.kvs()[i];
    const uint64_t count = kv.value.type == GgufType::kArray ? kv.value.count : 1;
    std::string value = GgufCell(f, kv.value);
    if (markdown) {
      // Pipes would end the cell.
      std::string cell;
      for (char ch : value) cell += ch == '|' ? std::string("\\|") : std::string(1, ch);
      std::printf("| %zu | %s | %llu | %s | %s |\n", i + 1, GgufTypeText(kv.value).c_str(),
                  static_cast<unsigned long long>(count), EscapeForDisplay(kv.key).c_str(), cell.c_str());
    } else {
      std::printf("  %4zu  %-9s %8llu  %s = %s\n", i + 1, GgufTypeText(kv.value).c_str(),
                  static_cast<unsigned long long>(count), Clip(std::string(kv.key), 60).c_str(), value.c_str());
    }
  }
}

void PrintMarkdownTensors(const Checkpoint& c) {
  // Groups with their size and bits per weight, then every tensor.
  std::vector<std::string> order;
  std::map<std::string, std::pair<uint64_t, uint64_t>> groups;  // elements, bytes
  for (const TensorView& t : c.tensors()) {
    const std::string g = TensorGroup(t.name);
    if (!groups.count(g)) order.push_back(g);
    groups[g].first += t.num_elements();
    groups[g].second += t.nbytes();
  }
  std::printf("\n## Tensor groups\n\n| group | elements | size | bits per weight |\n|---|--:|--:|--:|\n");
  for (const std::string& g : order) {
    const auto [elems, bytes] = groups[g];
    std::printf("| %s | %llu | %s | %.2f |\n", EscapeForDisplay(g).c_str(), static_cast<unsigned long long>(elems),
                HumanBytes(bytes).c_str(), elems ? 8.0 * static_cast<double>(bytes) / static_cast<double>(elems) : 0.0);
  }
  std::printf("\n## Tensors (%zu)\n\n| # | name | type | shape | elements | size |\n|--:|---|---|---|--:|--:|\n",
              c.tensors().size());
  for (size_t i = 0; i < c.tensors().size(); ++i) {
    const TensorView& t = c.tensors()[i];
    std::printf("| %zu | %s | %s | %s | %llu | %s |\n", i + 1, EscapeForDisplay(t.name).c_str(),
                std::string(DTypeName(t.dtype)).c_str(), ShapeText(t.shape).c_str(),
                static_cast<unsigned long long>(t.num_elements()), HumanBytes(t.nbytes()).c_str());
  }
}

void PrintHuman(const Checkpoint& c, bool markdown) {
  uint64_t total_bytes = 0, params = 0;
  std::map<std::string_view, std::pair<uint64_t, uint64_t>> by_dtype;  // count, bytes
  for (const TensorView& t : c.tensors()) {
    total_bytes += t.nbytes();
    params += t.num_elements();
    auto& d = by_dtype[DTypeName(t.dtype)];
    d.first++;
    d.second += t.nbytes();
  }
  const GgufFile* gguf = c.gguf_files().empty() ? nullptr : c.gguf_files()[0].get();
  std::string format = c.format();
  if (gguf != nullptr) {
    StrAppend(&format, " v", gguf->version(), " (", gguf->big_endian() ? "big" : "little", "-endian, alignment ",
              gguf->alignment(), ")");
  }
  if (c.files().size() > 1) StrAppend(&format, " (", c.files().size(), gguf ? " splits)" : " shards)");
  if (c.details().contains("container")) {
    StrAppend(&format, " (", c.details()["container"].get<std::string>(),
              c.details().value("byteorder", "little") == "big" ? ", big-endian" : "", ")");
  }
  if (markdown) {
    std::printf("# %s\n\n", EscapeForDisplay(c.path()).c_str());
    std::printf("- format: %s\n- tensors: %zu\n- parameters: %llu\n- data: %s\n", format.c_str(),
                c.tensors().size(), static_cast<unsigned long long>(params), HumanBytes(total_bytes).c_str());
    if (gguf != nullptr) PrintGgufKvs(*gguf, true);
    for (const std::string& w : c.warnings()) std::printf("\n> warning: %s\n", w.c_str());
    PrintMarkdownTensors(c);
    return;
  }
  std::printf("%s\n", EscapeForDisplay(c.path()).c_str());
  std::printf("  format      %s\n", format.c_str());
  std::printf("  tensors     %zu\n", c.tensors().size());
  std::printf("  parameters  %s\n", absl::StrFormat("%d", params).c_str());
  std::printf("  data        %s (%llu bytes)\n", HumanBytes(total_bytes).c_str(),
              static_cast<unsigned long long>(total_bytes));
  if (c.details().contains("header_nbytes")) {
    std::printf("  header      %llu bytes\n",
                static_cast<unsigned long long>(c.details()["header_nbytes"].get<uint64_t>()));
  }
  std::string dtypes;
  for (const auto& [name, d] : by_dtype) {
    StrAppend(&dtypes, dtypes.empty() ? "" : ", ", name, " ×", d.first, " (", HumanBytes(d.second), ")");
  }
  if (!dtypes.empty()) std::printf("  dtypes      %s\n", dtypes.c_str());
  if (gguf != nullptr) {
    PrintGgufKvs(*gguf, false);
  } else if (!c.metadata().empty()) {
    std::printf("\nmetadata (%zu)\n", c.metadata().size());
    for (const auto& [k, v] : c.metadata().items()) {
      const std::string value = v.is_string() ? v.get<std::string>() : DumpJson(v);
      std::printf("  %s = %s\n", Clip(k, 60).c_str(), Clip(value).c_str());
    }
  }
  for (const std::string& w : c.warnings()) std::printf("warning: %s\n", w.c_str());
  if (c.tensors().empty()) return;
  // Column widths from the content (names capped so one long name does not
  // push the table off the screen).
  size_t wn = 4, wd = 5, ws = 5;
  std::vector<std::string> names, shapes;
  for (const TensorView& t : c.tensors()) {
    names.push_back(EscapeForDisplay(t.name));
    shapes.push_back(ShapeText(t.shape));
    wn = std::max(wn, std::min<size_t>(names.back().size(), 60));
    wd = std::max(wd, DTypeName(t.dtype).size());
    ws = std::max(ws, shapes.back().size());
  }
  std::printf("\n  %-*s  %-*s  %-*s  %s\n", static_cast<int>(wn), "name", static_cast<int>(wd), "dtype",
              static_cast<int>(ws), "shape", "size");
  for (size_t i = 0; i < c.tensors().size(); ++i) {
    const TensorView& t = c.tensors()[i];
    std::printf("  %-*s  %-*s  %-*s  %s\n", static_cast<int>(wn), names[i].c_str(), static_cast<int>(wd),
                std::string(DTypeName(t.dtype)).c_str(), static_cast<int>(ws), shapes[i].c_str(),
                HumanBytes(t.nbytes()).c_str());
  }
}

}  // namespace

void RegisterInspect(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a checkpoint's metadata and tensors (reads only the header)");
  cmd->add_option("path", args->path, "Checkpoint file, or a directory of shards with its index")->required();
  cmd->add_flag("--json", args->json, "Print one JSON object with the complete content");
  cmd->add_flag("--markdown", args->markdown, "Print Markdown tables (metadata, tensor groups, tensors)");
  cmd->add_flag("--strict", args->strict, "Refuse files that only strict validation rejects");
  cmd->callback([args, exit_code] {
    OpenOptions options;
    options.strict = args->strict;
    absl::StatusOr<Checkpoint> c = Checkpoint::Open(args->path, options);
    if (!c.ok()) {
      PrintError(c.status());
      *exit_code = ExitCodeFor(c.status());
      return;
    }
    if (args->json) {
      std::printf("%s\n", DumpJson(ToJson(*c)).c_str());
    } else {
      PrintHuman(*c, args->markdown);
    }
    *exit_code = kExitOk;
  });
}

}  // namespace ckpt::cli
