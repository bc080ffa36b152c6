// ckpt hash PATH [--json] [--check MANIFEST] [--no-layer] [-q]
//
// Per-tensor XXH64 (seed 0) of each tensor's bytes, then one XXH64 over the
// concatenation of every tensor's bytes in file order: the lines and the
// values llama.cpp's `llama-gguf-hash` prints by default, so its manifests
// can be checked and ours can be checked by it. Only tensor bytes are hashed
// (no header, no padding), so equal tensors hash equal in any container;
// big-endian GGUF data is hashed in little-endian order for the same reason.
#include <algorithm>
#include <cstdio>
#include <thread>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/str_util.h"
#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ckpt/checkpoint.h"
#include "ckpt/dtype.h"
#include "ckpt/gguf.h"
#include "ckpt/mapped_file.h"
#include "ckpt/status.h"
#include "cli/common.h"
#include "xxhash.h"

namespace ckpt::cli {
namespace {

struct HashArgs {
  std::string path;
  std::string manifest;  // --check
  bool json = false;
  bool no_layer = false;
  bool quiet = false;
};

// Bytes hashed per step: large enough for the hash to run at full speed,
// small enough that the second pass over the chunk hits the cache.
constexpr size_t kChunk = size_t{1} << 20;

std::string Hex(XXH64_hash_t h) { return absl::StrFormat("%016x", h); }

struct XxhState {
  XxhState() : s(XXH64_createState()) {}
  ~XxhState() { XXH64_freeState(s); }
  XxhState(const XxhState&) = delete;
  XxhState& operator=(const XxhState&) = delete;
  XXH64_state_t* s;
};

struct Hashes {
  std::vector<XXH64_hash_t> tensors;  // empty with --no-layer
  XXH64_hash_t whole = 0;
};

absl::StatusOr<Hashes> HashCheckpoint(const Checkpoint& c, bool per_tensor, bool show_progress) {
  XxhState whole, one;
  if (whole.s == nullptr || one.s == nullptr) {
    return Error("cli.hash.internal", "out of memory").Code(absl::StatusCode::kInternal);
  }
  XXH64_reset(whole.s, 0);
  uint64_t total = 0;
  for (const TensorView& t : c.tensors()) total += t.nbytes();
  Progress progress("hash", show_progress);
  Hashes out;
  if (per_tensor) out.tensors.reserve(c.tensors().size());
  std::vector<uint8_t> swapped;
  uint64_t done = 0;
  // Per-tensor hashes on a second core while this one streams the
  // whole-model hash: two XXH64 passes cost one pass's time. (Big-endian
  // files keep the single-threaded path, which swaps a chunk for both.)
  bool any_big_endian = false;
  for (const auto& f : c.gguf_files()) any_big_endian |= f->big_endian();
  std::jthread per_tensor_thread;  // joins on every return path
  if (per_tensor && !any_big_endian && total >= (uint64_t{64} << 20)) {
    // Without this the two threads serialise on page faults of the mapping.
    for (const TensorView& t : c.tensors()) PrefaultRange(t.data);
    out.tensors.resize(c.tensors().size());
    per_tensor_thread = std::jthread([&c, &out] {
      for (size_t i = 0; i < c.tensors().size(); ++i) {
        out.tensors[i] = XXH64(c.tensors()[i].data.data(), c.tensors()[i].data.size(), 0);
      }
    });
    per_tensor = false;  // the loop below computes only the whole-model hash
  }
  for (size_t i = 0; i < c.tensors().size(); ++i) {
    const TensorView& t = c.tensors()[i];
    const DTypeInfo& info = GetDTypeInfo(t.dtype);
    // Big-endian GGUF: hash the little-endian form of the same values.
    const bool swap = !c.gguf_files().empty() && c.gguf_files()[c.tensor_file_index(i)]->big_endian() &&
                      (info.block_bytes > 1 || info.kind == DTypeKind::kQuantized) && t.nbytes() > 0;
    size_t step = kChunk;
    if (swap) {
      if (!CanSwapGgmlType(t.dtype)) {
        return Error("cli.hash.endian", StrCat("big-endian GGUF tensor of type ", DTypeName(t.dtype),
                                               ", whose byte order ckpt cannot convert"))
            .Tensor(t.name)
            .File(c.tensor_file(i))
            .Code(absl::StatusCode::kUnimplemented);
      }
      const size_t block = info.block_bytes == 0 ? 1 : info.block_bytes;
      step = std::max<size_t>(block, kChunk / block * block);
    }
    if (per_tensor) XXH64_reset(one.s, 0);
    const uint8_t* data = t.data.data();
    const size_t n = t.data.size();
    for (size_t off = 0; off < n; off += step) {
      const size_t len = std::min(step, n - off);
      const uint8_t* p = data + off;
      if (swap) {
        swapped.assign(p, p + len);
        absl::Status s = SwapGgmlBlocks(t.dtype, absl::MakeSpan(swapped));
        if (!s.ok()) return WithFile(s, c.tensor_file(i));
        p = swapped.data();
      }
      if (per_tensor) XXH64_update(one.s, p, len);
      XXH64_update(whole.s, p, len);
      done += len;
      progress.Update(done, total);
    }
    if (per_tensor) out.tensors.push_back(XXH64_digest(one.s));
  }
  out.whole = XXH64_digest(whole.s);
  if (per_tensor_thread.joinable()) per_tensor_thread.join();
  progress.Finish();
  return out;
}

// The xxh64 entries of a llama-gguf-hash manifest: NAME → HASH (the first
// line for a name wins). Each line is read as whitespace-separated
// `TYPE HASH NAME` tokens (more are ignored, fewer skip the line), as
// llama-gguf-hash reads it.
struct Manifest {
  std::unordered_map<std::string, std::string> xxh64;
  std::vector<std::string> types;  // known types present, in llama-gguf-hash's order
};

absl::StatusOr<Manifest> ReadManifest(const std::string& path) {
  std::string text;
  absl::StatusOr<MappedFile> f = MappedFile::Open(path);
  if (f.ok()) {
    text.assign(reinterpret_cast<const char*>(f->bytes().data()), f->bytes().size());
  } else if (ErrorRule(f.status()) != "file.empty") {
    return WithCode(f.status(), absl::StatusCode::kFailedPrecondition);  // exit 2, whatever the cause
  }
  Manifest m;
  bool seen[4] = {false, false, false, false};
  static constexpr const char* kKnown[4] = {"sha256", "sha1", "xxh64", "uuid"};
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream tokens(line);
    std::string type, hash, name;
    if (!(tokens >> type >> hash >> name)) continue;
    for (int k = 0; k < 4; ++k) seen[k] |= type == kKnown[k];
    if (type == "xxh64") m.xxh64.emplace(name, absl::AsciiStrToLower(hash));
  }
  std::vector<std::string> other;
  for (int k = 0; k < 4; ++k) {
    if (!seen[k]) continue;
    m.types.push_back(kKnown[k]);
    if (k != 2) other.push_back(kKnown[k]);
  }
  if (m.xxh64.empty()) {
    return Error("cli.hash.manifest",
                 other.empty() ? std::string("manifest does not have any known hash format")
                               : StrCat("manifest has no xxh64 hashes (only ", absl::StrJoin(other, ", "),
                                        "; ckpt verifies xxh64)"))
        .File(path)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  return m;
}

enum class Verdict { kOk, kMismatch, kNotFound };

const char* VerdictText(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "Ok";
    case Verdict::kMismatch:
      return "Mismatch";
    case Verdict::kNotFound:
      return "Not Found";
  }
  return "?";
}

// One output line, as llama-gguf-hash prints it (names written raw).
void PrintLine(const std::string& hex, const std::string& name, const char* verdict) {
  std::string line = StrCat("xxh64     ", hex, "  ", name);
  if (verdict != nullptr) StrAppend(&line, "  -  ", verdict);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

absl::Status Run(const HashArgs& a, int* exit_code) {
  std::optional<Manifest> manifest;
  if (!a.manifest.empty()) {
    CKPT_ASSIGN_OR_RETURN(manifest, ReadManifest(a.manifest));
  }
  CKPT_ASSIGN_OR_RETURN(Checkpoint c, Checkpoint::Open(a.path));
  CKPT_ASSIGN_OR_RETURN(Hashes h, HashCheckpoint(c, !a.no_layer, ShowProgress(a.quiet)));

  // Verification: Success when nothing mismatches and every byte was
  // checked, by the whole-model entry or by an entry for every tensor.
  auto verify = [&](const std::string& name, const std::string& hex) {
    auto it = manifest->xxh64.find(name);
    if (it == manifest->xxh64.end()) return Verdict::kNotFound;
    return it->second == hex ? Verdict::kOk : Verdict::kMismatch;
  };
  std::vector<Verdict> tensor_verdicts;
  Verdict whole_verdict = Verdict::kNotFound;
  std::string result;
  if (manifest) {
    bool mismatch = false, all_tensors_ok = !h.tensors.empty();
    for (size_t i = 0; i < h.tensors.size(); ++i) {
      tensor_verdicts.push_back(verify(StrCat(a.path, ":", c.tensors()[i].name), Hex(h.tensors[i])));
      mismatch |= tensor_verdicts.back() == Verdict::kMismatch;
      all_tensors_ok &= tensor_verdicts.back() == Verdict::kOk;
    }
    whole_verdict = verify(a.path, Hex(h.whole));
    mismatch |= whole_verdict == Verdict::kMismatch;
    if (mismatch) {
      result = "Failure";
    } else if (whole_verdict == Verdict::kOk || all_tensors_ok) {
      result = "Success";
    } else {
      result = "Manifest Missing Entry";
    }
    *exit_code = result == "Success" ? kExitOk : kExitInvalid;
  } else {
    *exit_code = kExitOk;
  }

  if (a.json) {
    nlohmann::ordered_json j;
    j["path"] = a.path;
    j["format"] = c.format();
    j["algorithm"] = "xxh64";
    nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
    for (size_t i = 0; i < c.tensors().size(); ++i) {
      const TensorView& t = c.tensors()[i];
      nlohmann::ordered_json e;
      e["name"] = t.name;
      e["dtype"] = DTypeName(t.dtype);
      e["shape"] = std::vector<uint64_t>(t.shape.begin(), t.shape.end());
      e["nbytes"] = t.nbytes();
      if (!a.no_layer) e["xxh64"] = Hex(h.tensors[i]);
      if (manifest && !a.no_layer) e["check"] = VerdictText(tensor_verdicts[i]);
      tensors.push_back(std::move(e));
    }
    j["tensors"] = std::move(tensors);
    j["xxh64"] = Hex(h.whole);
    if (manifest) {
      j["check"] = {{"manifest", a.manifest}, {"xxh64", VerdictText(whole_verdict)}, {"result", result}};
    }
    std::printf("%s\n", DumpJson(j).c_str());
    return absl::OkStatus();
  }
  if (manifest) {
    // The header llama-gguf-hash prints: the manifest and the hash types in it.
    std::string head = StrCat("manifest  ", a.manifest);
    for (const std::string& t : manifest->types) StrAppend(&head, "  ", t);
    head += '\n';
    std::fwrite(head.data(), 1, head.size(), stdout);
  }
  for (size_t i = 0; i < h.tensors.size(); ++i) {
    PrintLine(Hex(h.tensors[i]), StrCat(a.path, ":", c.tensors()[i].name),
              manifest ? VerdictText(tensor_verdicts[i]) : nullptr);
  }
  PrintLine(Hex(h.whole), a.path, manifest ? VerdictText(whole_verdict) : nullptr);
  if (manifest) {
    const std::string tail = StrCat("\nVerification results for ", a.manifest, " - ", result, "\n");
    std::fwrite(tail.data(), 1, tail.size(), stdout);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterHash(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<HashArgs>();
  CLI::App* cmd = app.add_subcommand(
      "hash", "Per-tensor and whole-model XXH64 of tensor data (llama-gguf-hash compatible)");
  cmd->add_option("path", args->path, "Checkpoint file, shard directory or first file of a GGUF split set")
      ->required();
  cmd->add_flag("--json", args->json, "Print one JSON object instead of lines");
  cmd->add_option("-c,--check", args->manifest,
                  "Verify against a manifest (lines `xxh64 HASH NAME`, e.g. saved llama-gguf-hash or ckpt hash "
                  "output); exit 1 on a mismatch or missing entry");
  cmd->add_flag("--no-layer", args->no_layer, "Only the whole-model hash, no per-tensor lines");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args, exit_code] {
    const absl::Status s = Run(*args, exit_code);
    if (!s.ok()) {
      PrintError(s);
      *exit_code = ExitCodeFor(s);
    }
  });
}

}  // namespace ckpt::cli
