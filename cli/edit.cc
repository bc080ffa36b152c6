// ckpt edit IN OUT [--set KEY=[TYPE:]VALUE]... [--remove KEY]...
//                  [--rename-tensor OLD=NEW]... [--drop-tensor NAME]...
//                  [--endian little|big] [--quiet]
//
// Rewrites a GGUF with changed metadata, renamed or dropped tensors, or the
// other byte order. Tensor data is copied untouched (byte-swapped only for
// --endian). OUT may be IN: the new file replaces it atomically.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "CLI/CLI.hpp"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ckpt/gguf.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "cli/common.h"
#include "lib/str_util.h"

namespace ckpt::cli {
namespace {

struct EditArgs {
  std::string in, out;
  std::vector<std::string> set, remove, rename, drop;
  std::string endian;
  bool quiet = false;
};

absl::Status Usage(std::string detail) {
  return Error("cli.edit.usage", std::move(detail)).Code(absl::StatusCode::kFailedPrecondition);
}

absl::StatusOr<GgufOwnedValue> ParseScalar(GgufType type, std::string_view text, std::string_view key);

absl::StatusOr<GgufOwnedValue> ParseJsonElement(GgufType type, const nlohmann::json& j, std::string_view key) {
  if (type == GgufType::kString) {
    if (!j.is_string()) return Usage(StrCat("--set ", key, ": array element ", j.dump(), " is not a string"));
    return GgufOwnedValue::String(j.get<std::string>());
  }
  if (j.is_string()) return Usage(StrCat("--set ", key, ": array element ", j.dump(), " is not a number"));
  return ParseScalar(type, j.dump(), key);
}

// VALUE as `type`: integers range-checked, bool as true/false/1/0/yes/no
// (never Python truthiness, where "false" is true), floats in full.
absl::StatusOr<GgufOwnedValue> ParseScalar(GgufType type, std::string_view text, std::string_view key) {
  const auto bad = [&](std::string_view why) {
    return Usage(StrCat("--set ", key, ": cannot read '", EscapeForDisplay(text), "' as ", GgufTypeName(type),
                        why.empty() ? "" : " (", why, why.empty() ? "" : ")"));
  };
  switch (type) {
    case GgufType::kString:
      return GgufOwnedValue::String(std::string(text));
    case GgufType::kBool: {
      const std::string t = absl::AsciiStrToLower(AbslView(text));
      if (t == "true" || t == "1" || t == "yes") return GgufOwnedValue::Bool(true);
      if (t == "false" || t == "0" || t == "no") return GgufOwnedValue::Bool(false);
      return bad("use true or false");
    }
    case GgufType::kF32:
    case GgufType::kF64: {
      const std::string s(text);
      char* end = nullptr;
      errno = 0;
      const double d = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) return bad("");
      if (type == GgufType::kF32) {
        const float f = static_cast<float>(d);
        if (std::isinf(f) && !std::isinf(d)) return bad("out of f32 range");
        return GgufOwnedValue::F32(f);
      }
      return GgufOwnedValue::F64(d);
    }
    case GgufType::kU8:
    case GgufType::kU16:
    case GgufType::kU32:
    case GgufType::kU64: {
      uint64_t v;
      if (!absl::SimpleAtoi(AbslView(text), &v)) return bad("");
      const uint32_t bits = 8 * GgufTypeSize(type);
      if (bits < 64 && v >> bits != 0) return bad("out of range");
      return GgufOwnedValue::Unsigned(type, v);
    }
    case GgufType::kI8:
    case GgufType::kI16:
    case GgufType::kI32:
    case GgufType::kI64: {
      int64_t v;
      if (!absl::SimpleAtoi(AbslView(text), &v)) return bad("");
      const uint32_t bits = 8 * GgufTypeSize(type);
      if (bits < 64 && (v < -(int64_t{1} << (bits - 1)) || v >= (int64_t{1} << (bits - 1)))) {
        return bad("out of range");
      }
      return GgufOwnedValue::Signed(type, v);
    }
    case GgufType::kArray:
      break;
  }
  return bad("");
}

// KEY=[TYPE:]VALUE. TYPE is a GGUF type name (u8 ... f64, bool, str) or
// arr[TYPE] with a JSON array as VALUE; without it the key's current type.
absl::StatusOr<std::pair<std::string, GgufOwnedValue>> ParseSet(const std::string& arg, const GgufFile& f) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) return Usage(StrCat("--set ", arg, ": expected KEY=TYPE:VALUE"));
  std::string key = arg.substr(0, eq);
  std::string_view rest = std::string_view(arg).substr(eq + 1);
  std::optional<GgufType> type, elem;
  const size_t colon = rest.find(':');
  if (colon != std::string_view::npos) {
    const std::string_view t = rest.substr(0, colon);
    if (t.size() > 5 && t.substr(0, 4) == "arr[" && t.back() == ']') {
      elem = GgufTypeFromName(t.substr(4, t.size() - 5));
      if (!elem || *elem == GgufType::kArray) return Usage(StrCat("--set ", key, ": unknown element type in ", t));
      type = GgufType::kArray;
      rest.remove_prefix(colon + 1);
    } else if ((type = GgufTypeFromName(t))) {
      if (*type == GgufType::kArray) return Usage(StrCat("--set ", key, ": write arrays as arr[TYPE]:[...]"));
      rest.remove_prefix(colon + 1);
    }
  }
  if (!type) {
    const GgufKv* kv = f.FindKv(key);
    if (kv == nullptr) {
      return Usage(StrCat("--set ", key, ": new keys need a type, e.g. ", key, "=str:VALUE (types: u8 i8 u16 i16 "
                          "u32 i32 u64 i64 f32 f64 bool str arr[TYPE])"));
    }
    type = kv->value.type;
    elem = kv->value.elem_type;
  }
  if (*type != GgufType::kArray) {
    CKPT_ASSIGN_OR_RETURN(GgufOwnedValue v, ParseScalar(*type, rest, key));
    return std::make_pair(std::move(key), std::move(v));
  }
  const nlohmann::json j = nlohmann::json::parse(rest.begin(), rest.end(), nullptr, false);
  if (!j.is_array()) return Usage(StrCat("--set ", key, ": an array value is a JSON array, e.g. [1,2,3]"));
  std::vector<GgufOwnedValue> elements;
  for (const nlohmann::json& e : j) {
    CKPT_ASSIGN_OR_RETURN(GgufOwnedValue v, ParseJsonElement(*elem, e, key));
    elements.push_back(std::move(v));
  }
  return std::make_pair(std::move(key), GgufOwnedValue::Array(*elem, std::move(elements)));
}

absl::StatusOr<std::pair<std::string, std::string>> ParseRename(const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
    return Usage(StrCat("--rename-tensor ", arg, ": expected OLD=NEW"));
  }
  return std::make_pair(arg.substr(0, eq), arg.substr(eq + 1));
}

absl::Status Run(const EditArgs& a) {
  CKPT_ASSIGN_OR_RETURN(const GgufFile f, GgufFile::Open(a.in));
  if (f.GetInt("split.count").value_or(0) > 1) {
    return Usage("this is one file of a split set: `ckpt merge` it first, edit, then `ckpt split` again");
  }
  GgufWriteOptions options;
  options.big_endian = f.big_endian();
  if (!a.endian.empty()) {
    const std::string e = absl::AsciiStrToLower(a.endian);
    if (e != "little" && e != "big") return Usage("--endian is little or big");
    options.big_endian = e == "big";
  }

  // Metadata: existing keys keep their position, new ones are appended.
  absl::flat_hash_map<std::string, GgufOwnedValue> set;
  std::vector<std::string> new_keys;
  for (const std::string& s : a.set) {
    CKPT_ASSIGN_OR_RETURN(auto kv, ParseSet(s, f));
    if (set.contains(kv.first)) return Usage(StrCat("--set ", kv.first, " given twice"));
    if (f.FindKv(kv.first) == nullptr) new_keys.push_back(kv.first);
    set.insert_or_assign(kv.first, std::move(kv.second));
  }
  absl::flat_hash_set<std::string> remove;
  for (const std::string& k : a.remove) {
    if (set.contains(k)) return Usage(StrCat("--remove ", k, " and --set ", k, " contradict each other"));
    if (f.FindKv(k) == nullptr) return Usage(StrCat("--remove ", k, ": no such key"));
    remove.insert(k);
  }
  std::vector<GgufKvToWrite> kvs;
  for (const GgufKv& kv : f.kvs()) {
    const std::string key(kv.key);
    if (remove.contains(key)) continue;
    if (auto it = set.find(key); it != set.end()) {
      kvs.push_back({key, it->second});
    } else {
      kvs.push_back({key, std::make_pair(&f, kv.value)});
    }
  }
  for (const std::string& k : new_keys) {
    if (!remove.contains(k)) kvs.push_back({k, set.at(k)});
  }

  // Tensors.
  absl::flat_hash_map<std::string, std::string> rename;
  for (const std::string& r : a.rename) {
    CKPT_ASSIGN_OR_RETURN(auto p, ParseRename(r));
    if (!f.Find(p.first)) return Usage(StrCat("--rename-tensor ", r, ": no tensor named ", p.first));
    if (!rename.emplace(p.first, p.second).second) return Usage(StrCat("--rename-tensor ", p.first, " given twice"));
  }
  absl::flat_hash_set<std::string> drop;
  for (const std::string& d : a.drop) {
    if (!f.Find(d)) return Usage(StrCat("--drop-tensor ", d, ": no such tensor"));
    if (rename.contains(d)) return Usage(StrCat("--drop-tensor ", d, " and --rename-tensor ", d, " contradict each other"));
    drop.insert(d);
  }
  std::vector<GgufTensorToWrite> tensors;
  for (size_t i = 0; i < f.size(); ++i) {
    const GgufTensorInfo& info = f.info(i);
    const std::string name(info.name);
    if (drop.contains(name)) continue;
    GgufTensorToWrite t;
    const auto it = rename.find(name);
    t.name = it == rename.end() ? name : it->second;
    t.dtype = t.source_dtype = info.dtype;
    t.ne.assign(info.ne.begin(), info.ne.begin() + info.n_dims);  // the stored dims, trailing 1s kept
    t.data = f.tensor(i).data;
    t.source_big_endian = f.big_endian();
    tensors.push_back(std::move(t));
  }
  if (!kvs.empty() || !tensors.empty()) {
    // Mention a count change the user may not expect to matter.
    if (f.FindKv("split.tensors.count") != nullptr && tensors.size() != f.size() && !a.quiet) {
      std::fprintf(stderr, "ckpt: note: split.tensors.count still says %zu\n", f.size());
    }
  }
  Progress progress("edit", ShowProgress(a.quiet));
  CKPT_RETURN_IF_ERROR(WriteGguf(a.out, kvs, tensors, options,
                                 [&](uint64_t done, uint64_t total) { progress.Update(done, total); }));
  progress.Finish();
  return absl::OkStatus();
}

}  // namespace

void RegisterEdit(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<EditArgs>();
  CLI::App* cmd = app.add_subcommand(
      "edit", "Copy a GGUF with metadata set or removed, tensors renamed or dropped, or the byte order changed");
  cmd->add_option("in", args->in, "Input GGUF file")->required();
  cmd->add_option("out", args->out, "Output file (may be IN: replaced atomically)")->required();
  cmd->add_option("--set", args->set,
                  "KEY=[TYPE:]VALUE, e.g. general.name=str:Foo, tokenizer.ggml.add_bos_token=bool:false, "
                  "x=arr[i32]:[1,2]; TYPE defaults to the key's current type")
      ->allow_extra_args(false);
  cmd->add_option("--remove", args->remove, "Remove metadata key KEY")->allow_extra_args(false);
  cmd->add_option("--rename-tensor", args->rename, "OLD=NEW")->allow_extra_args(false);
  cmd->add_option("--drop-tensor", args->drop, "Leave out tensor NAME")->allow_extra_args(false);
  cmd->add_option("--endian", args->endian, "Byte order of the output: little or big (default: as IN)");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress or notes");
  cmd->callback([args, exit_code] {
    const absl::Status s = Run(*args);
    if (!s.ok()) PrintError(s);
    *exit_code = s.ok() ? kExitOk : ExitCodeFor(s);
  });
}

}  // namespace ckpt::cli
