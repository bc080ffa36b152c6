// The scanner: see include/ckpt/scan.h. Policy for globals lives in
// lib/pickle_policy.cc, decoding in lib/pickle.cc; this file recognises
// containers, walks them, and turns what it sees into findings.
#include "ckpt/scan.h"

#include <zlib.h>
#include <zstd.h>
#include <bzlib.h>
#include <lzma.h>

#include <functional>

#include <algorithm>
#include <cstring>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "ckpt/checked_math.h"
#include "ckpt/gguf.h"
#include "ckpt/mapped_file.h"
#include "ckpt/numpy.h"
#include "ckpt/pickle.h"
#include "ckpt/safetensors.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "ckpt/zip.h"
#include "lib/pickle_policy.h"
#include "lib/str_util.h"
#include "lib/tar.h"
#include "nlohmann/json.hpp"

namespace ckpt {
namespace {

bool Starts(absl::Span<const uint8_t> b, std::string_view p, size_t at = 0) {
  return b.size() >= at + p.size() && std::memcmp(b.data() + at, p.data(), p.size()) == 0;
}

std::string_view AsText(absl::Span<const uint8_t> b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

constexpr uint8_t kLegacyTorchMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                         0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

// Opcodes torch's weights-only unpickler accepts (spec §2).
bool IsWeightsOnlyOpcode(uint8_t op) {
  static constexpr std::string_view kOps =
      "\x80.cRbQ(t\x85\x86\x87)]}\x8f" "ae" "su" "N\x88\x89JKM\x8aGXUqrhj";
  return kOps.find(static_cast<char>(op)) != std::string_view::npos;
}

// The file-name suffixes of weights: an executable named like this is
// disguised.
bool HasWeightsExtension(std::string_view name) {
  static constexpr std::string_view kExt[] = {".bin", ".pt", ".pth", ".ckpt", ".safetensors", ".gguf", ".pkl",
                                              ".pickle", ".npy", ".npz", ".h5", ".keras", ".onnx", ".joblib",
                                              ".model", ".msgpack", ".tflite", ".pb", ".mar", ".nemo"};
  std::string lower = absl::AsciiStrToLower(AbslView(name));
  for (std::string_view e : kExt) {
    if (absl::EndsWith(lower, AbslView(e))) return true;
  }
  return false;
}

// Jinja constructs that reach Python internals (CVE-2024-34359 class).
std::optional<std::string> TemplateHazard(std::string_view t) {
  static constexpr std::string_view kPatterns[] = {
      "__class__", "__mro__", "__subclasses__", "__globals__", "__builtins__", "__import__",
      "__init__", "__base__", "__bases__", "__getattribute__", "__dict__", "__code__",
      "_TemplateReference__context", "os.system", "os.popen", "subprocess", "popen(", "import os",
      "eval(", "exec(", "|attr(", "| attr(",
  };
  for (std::string_view p : kPatterns) {
    if (t.find(p) != std::string_view::npos) return std::string(p);
  }
  return std::nullopt;
}

class Scanner {
 public:
  Scanner(const ScanOptions& options, ScanReport* report) : options_(options), r_(*report) {}

  // Scans `b` whose location prefix is `where` (file or file!member).
  void Blob(absl::Span<const uint8_t> b, const std::string& where, std::string_view name, int depth) {
    if (depth > options_.max_depth) {
      Incomplete("scan.archive.depth", StrCat("nesting deeper than ", options_.max_depth,
                                              " levels is not scanned"), where);
      return;
    }
    const bool top = depth == 0;
    std::string format = Dispatch(b, where, name, depth);
    if (top) r_.format = format;
    // Whatever the bytes were taken for, a loader may take them for a pickle:
    // pickle.load, torch.load's magic-number read and np.load(allow_pickle)
    // decode offset 0 whatever follows. Polyglots (a zlib stream, a tar
    // header, a headerless pickle sniffed as "other") are judged as pickles
    // when decoding them imports or calls anything.
    if (format != "pickle" && format != "pytorch-legacy") PolyglotPickle(b, where, depth, format);
  }

 private:
  // The first bytes a polyglot check decodes before deciding whether to go on.
  static constexpr size_t kPolyglotWindow = 1 << 20;

  // True when decoding `b` as a pickle imports or calls something. The first
  // MiB is decoded; only when that window ends with the decode still clean
  // (cut short, no error) is the whole content decoded — random or tensor
  // bytes fail within a few opcodes, a real pickle does not.
  bool MayRun(absl::Span<const uint8_t> b) {
    PickleLimits limits;
    limits.record_items = false;
    limits.max_opcodes = options_.max_pickle_opcodes;
    const bool windowed = b.size() > kPolyglotWindow;
    PickleProgram p = DecodePickle(b.subspan(0, std::min(b.size(), kPolyglotWindow)), 0, limits);
    if (Runs(p)) return true;
    if (!windowed || p.complete() || ErrorRule(p.status) != "pickle.truncated") return false;
    return Runs(DecodePickle(b, 0, limits));
  }
  static bool Runs(const PickleProgram& p) {
    if (!p.imports.empty()) return true;
    for (const PickleCall& c : p.calls) {
      if (c.opcode != 'P' && c.opcode != 'Q') return true;
    }
    return false;
  }
  void PolyglotPickle(absl::Span<const uint8_t> b, const std::string& where, int depth, std::string_view format) {
    if (!MayRun(b)) return;
    PickleProgram p = DecodeOne(b, 0);
    Add(Severity::kHigh, "scan.pickle.polyglot",
        StrCat("the bytes read as ", format, " are also a pickle that imports or calls when loaded"), At(where, 0));
    Judge(p, where, depth + 1, /*torch=*/false);
  }

  // ---- findings ---------------------------------------------------------
  void Add(Severity sev, std::string_view rule, std::string message, std::string location) {
    // Merge identical findings (a 50k-tensor pickle names one bad global
    // 50k times): same rule and message.
    std::string key = StrCat(rule, "\n", message);
    auto it = index_.find(key);
    if (it != index_.end()) {
      ++r_.findings[it->second].count;
      return;
    }
    if (r_.findings.size() >= options_.max_findings) {
      ++dropped_;
      return;
    }
    index_[key] = r_.findings.size();
    r_.findings.push_back({sev, std::string(rule), std::move(message), std::move(location), 1});
  }
  void Incomplete(std::string_view rule, std::string message, std::string location) {
    r_.incomplete = true;
    Add(Severity::kMedium, rule, std::move(message), std::move(location));
  }
  static std::string At(const std::string& where, uint64_t offset) { return StrCat(where, "@", offset); }

  // ---- dispatch by content ---------------------------------------------
  std::string Dispatch(absl::Span<const uint8_t> b, const std::string& where, std::string_view name, int depth) {
    if (b.empty()) return "empty";
    if (Starts(b, "GGUF")) {
      Gguf(b, where);
      return "gguf";
    }
    if (LooksLikeNpy(b)) {
      Npy(b, where, depth);
      return "numpy";
    }
    if (LooksLikeZip(b)) {
      Zip(b, where, depth);
      return "zip";
    }
    if (b.size() >= sizeof(kLegacyTorchMagic) &&
        std::memcmp(b.data(), kLegacyTorchMagic, sizeof(kLegacyTorchMagic)) == 0) {
      LegacyTorch(b, where, depth);
      return "pytorch-legacy";
    }
    if (LooksLikeTar(b)) {
      Tar(b, where, depth);
      return "tar";
    }
    if (Starts(b, "\x1f\x8b")) {
      Inflate(b, where, depth, "gzip");
      return "gzip";
    }
    if (Starts(b, "\x28\xb5\x2f\xfd")) {
      Zstd(b, where, depth);
      return "zstd";
    }
    if (b.size() >= 2 && (b[0] & 0x0F) == 8 && (b[0] >> 4) <= 7 && ((b[0] << 8) | b[1]) % 31 == 0 &&
        !(b[1] & 0x20)) {
      // A zlib header (joblib's default); confirmed by inflating.
      if (Inflate(b, where, depth, "zlib")) return "zlib";
    }
    if (Starts(b, "7z\xbc\xaf\x27\x1c")) {
      Unscannable(where, "a 7z archive");
      return "7z";
    }
    if (Starts(b, "Rar!\x1a\x07")) {
      Unscannable(where, "a RAR archive");
      return "rar";
    }
    if (Starts(b, "BZh") && b.size() > 4 && b[3] >= '1' && b[3] <= '9') {
      Bzip2(b, where, depth);
      return "bzip2";
    }
    if (Starts(b, "\xfd" "7zXZ\x00")) {
      Xz(b, where, depth, "xz");
      return "xz";
    }
    if (b.size() >= 13 && b[0] == 0x5d && b[1] == 0 && b[2] == 0 && (b[3] | b[4]) != 0 &&
        (b[12] == 0 || std::all_of(b.begin() + 5, b.begin() + 13, [](uint8_t c) { return c == 0xff; }))) {
      // .lzma (LZMA_alone): properties 0x5d, dictionary size, usually an
      // unknown (all-ones) or small uncompressed size.
      Xz(b, where, depth, "lzma");
      return "lzma";
    }
    if (Starts(b, "\x04\x22\x4d\x18")) {
      Unscannable(where, "an lz4 frame");
      return "lz4";
    }
    if (LooksLikePickle(b)) {
      PickleStream(b, where, depth, /*torch=*/false);
      return "pickle";
    }
    if (Starts(b, "\x89HDF\r\n\x1a\n")) {
      Hdf5(b, where);
      return "hdf5";
    }
    if (Executable(b, where, name)) return "executable";
    if (LooksLikeSafetensorsHeader(b)) {
      Safetensors(b, where);
      return "safetensors";
    }
    if (LooksLikeJson(b)) {
      Json(b, where);
      return "json";
    }
    return "other";
  }

  static bool LooksLikeSafetensorsHeader(absl::Span<const uint8_t> b) {
    if (b.size() < 9) return false;
    uint64_t n;
    std::memcpy(&n, b.data(), 8);
    const uint64_t limit = 8 + std::min<uint64_t>(n, b.size() - 8);
    for (size_t i = 8; i < limit; ++i) {
      if (b[i] == '{') return true;
      if (b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t') return false;
    }
    return false;
  }
  static bool LooksLikeJson(absl::Span<const uint8_t> b) {
    size_t i = 0;
    while (i < b.size() && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) ++i;
    return i < b.size() && b[i] == '{';
  }

  void Unscannable(const std::string& where, std::string_view what) {
    Incomplete("scan.archive.unscannable",
               StrCat(what, ": ckpt cannot look inside it, so it cannot be called safe"), where);
  }

  // ---- GGUF / Safetensors ----------------------------------------------
  void Gguf(absl::Span<const uint8_t> b, const std::string& where) {
    absl::StatusOr<GgufFile> f = GgufFile::Parse(b);
    if (!f.ok()) {
      Add(Severity::kHigh, "scan.header.invalid",
          StrCat("GGUF file fails validation: ", ErrorDetail(f.status()), " [", ErrorRule(f.status()), "]"),
          ErrorOffset(f.status()) ? At(where, *ErrorOffset(f.status())) : where);
      return;
    }
    for (const GgufKv& kv : f->kvs()) {
      if (!absl::StartsWith(AbslView(kv.key), "tokenizer.chat_template")) continue;
      if (kv.value.type != GgufType::kString) continue;
      std::string_view t = f->ReadString(kv.value);
      if (auto hazard = TemplateHazard(t)) {
        Add(Severity::kHigh, "scan.template.code",
            StrCat("chat template '", EscapeForDisplay(kv.key), "' contains '", *hazard,
                   "', which reaches Python internals when rendered by a sandbox-less Jinja"),
            At(where, kv.key_offset));
      }
    }
  }

  void Safetensors(absl::Span<const uint8_t> b, const std::string& where) {
    absl::StatusOr<SafetensorsFile> f = SafetensorsFile::Parse(b);
    if (!f.ok()) {
      Add(Severity::kHigh, "scan.header.invalid",
          StrCat("Safetensors file fails validation: ", ErrorDetail(f.status()), " [", ErrorRule(f.status()), "]"),
          ErrorOffset(f.status()) ? At(where, *ErrorOffset(f.status())) : where);
    }
  }

  // ---- JSON (tokenizer_config.json, Keras config.json) ---------------------
  void Json(absl::Span<const uint8_t> b, const std::string& where) {
    if (b.size() > (64u << 20)) return;
    nlohmann::json j = nlohmann::json::parse(b.begin(), b.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return;
    // Iterative walk (depth bounded by the JSON parser's own recursion).
    std::vector<const nlohmann::json*> todo = {&j};
    size_t visited = 0;
    while (!todo.empty() && ++visited < 1000000) {
      const nlohmann::json* v = todo.back();
      todo.pop_back();
      if (v->is_object()) {
        for (auto it = v->begin(); it != v->end(); ++it) {
          if (it.key() == "chat_template") CheckTemplateValue(it.value(), where);
          if (it.key() == "class_name" && it.value().is_string() && it.value() == "Lambda") {
            Add(Severity::kHigh, "scan.keras.lambda",
                "a Keras Lambda layer: its Python code runs when the model is loaded (CVE-2024-3660)", where);
          }
          todo.push_back(&it.value());
        }
      } else if (v->is_array()) {
        for (const auto& e : *v) todo.push_back(&e);
      }
    }
  }
  void CheckTemplateValue(const nlohmann::json& v, const std::string& where) {
    std::vector<std::string> templates;
    if (v.is_string()) templates.push_back(v.get<std::string>());
    if (v.is_array()) {
      for (const auto& e : v) {
        if (e.is_object() && e.contains("template") && e["template"].is_string()) {
          templates.push_back(e["template"].get<std::string>());
        }
      }
    }
    for (const std::string& t : templates) {
      if (auto hazard = TemplateHazard(t)) {
        Add(Severity::kHigh, "scan.template.code",
            StrCat("chat_template contains '", *hazard, "', which reaches Python internals when rendered"), where);
      }
    }
  }

  void Hdf5(absl::Span<const uint8_t> b, const std::string& where) {
    // Keras .h5 keeps the model config as a JSON attribute; a Lambda layer in
    // it carries marshalled Python code.
    std::string_view s = AsText(b);
    if (s.find("\"class_name\": \"Lambda\"") != std::string_view::npos ||
        s.find("\"class_name\":\"Lambda\"") != std::string_view::npos) {
      Add(Severity::kHigh, "scan.keras.lambda",
          "a Keras Lambda layer in the HDF5 model config: its Python code runs when the model is loaded "
          "(CVE-2024-3660)", where);
    }
  }

  bool Executable(absl::Span<const uint8_t> b, const std::string& where, std::string_view name) {
    std::string_view what;
    if (Starts(b, "\x7f" "ELF")) what = "an ELF executable";
    else if (Starts(b, "MZ") && b.size() >= 64) what = "a Windows (PE/DOS) executable";
    else if (Starts(b, "\xcf\xfa\xed\xfe") || Starts(b, "\xce\xfa\xed\xfe") || Starts(b, "\xfe\xed\xfa\xce") ||
             Starts(b, "\xfe\xed\xfa\xcf")) what = "a Mach-O executable";
    else if (Starts(b, "#!")) what = "a script (#!)";
    if (what.empty()) return false;
    const bool disguised = HasWeightsExtension(name);
    Add(disguised ? Severity::kCritical : Severity::kMedium, "scan.executable",
        disguised ? StrCat(what, " named like a weights file") : StrCat(what, " among model files"), where);
    return true;
  }

  // ---- NumPy -------------------------------------------------------------
  void Npy(absl::Span<const uint8_t> b, const std::string& where, int depth) {
    absl::StatusOr<NpyHeader> h = ParseNpyHeader(b);
    if (!h.ok()) {
      Incomplete("scan.archive.malformed", StrCat(".npy header does not parse: ", ErrorDetail(h.status())), where);
      // Structured dtypes with object fields also pickle their body: look at
      // whatever follows the header length the preamble declares.
      if (b.size() >= 12) {
        const uint64_t start = b[6] == 1 ? 10 : 12;
        const uint64_t len = b[6] == 1 ? (b[8] | (b[9] << 8))
                                       : (b[8] | (b[9] << 8) | (b[10] << 16) | (uint64_t{b[11]} << 24));
        if (len <= b.size() - start && MayRun(b.subspan(start + len))) {
          PickleStream(b.subspan(start + len), where, depth + 1, false, start + len);
        }
      }
      return;
    }
    if (IsObjectDescr(h->descr)) {
      Add(Severity::kLow, "scan.npy.object",
          "an object array: numpy.load(allow_pickle=True) unpickles its body", where);
      PickleStream(b.subspan(h->data_offset), where, depth + 1, false, h->data_offset);
    }
  }

  // ---- zip -----------------------------------------------------------------
  void Zip(absl::Span<const uint8_t> b, const std::string& where, int depth) {
    absl::StatusOr<ZipArchive> zip = ZipArchive::Open(b);
    if (!zip.ok()) {
      Incomplete("scan.archive.malformed", StrCat("zip archive does not parse: ", ErrorDetail(zip.status()), " [",
                                                  ErrorRule(zip.status()), "]"),
                 ErrorOffset(zip.status()) ? At(where, *ErrorOffset(zip.status())) : where);
      return;
    }
    for (const ZipIssue& i : zip->issues()) {
      Add(Severity::kHigh, StrCat("scan.", i.rule),
          StrCat(i.message, ": zip readers disagree about this archive (torch, Python's zipfile and scanners "
                            "can each see different content)"),
          At(where, i.offset));
    }
    // torch's view: root folder from the first entry; data.pkl there.
    std::string root;
    if (!zip->entries().empty()) {
      std::string_view first = zip->entries()[0].name;
      size_t slash = first.find('/');
      if (slash != std::string_view::npos) root = std::string(first.substr(0, slash + 1));
    }
    bool torchscript = false;
    for (size_t i = 0; i < zip->entries().size(); ++i) {
      const ZipEntry& e = zip->entries()[i];
      if (e.is_directory()) continue;
      // torch's zip lookup (miniz) ignores case.
      std::string_view rel = e.name;
      if (!root.empty() && absl::StartsWithIgnoreCase(AbslView(rel), root)) rel.remove_prefix(root.size());
      if (!torchscript && (absl::EqualsIgnoreCase(AbslView(rel), "constants.pkl") ||
                           absl::StartsWithIgnoreCase(AbslView(rel), "code/"))) {
        torchscript = true;
        Add(Severity::kHigh, "scan.torchscript",
            "a TorchScript archive: torch.jit.load runs the code it contains", StrCat(where, "!", e.name));
      }
      const bool torch_pickle = !root.empty() && rel.size() < e.name.size() &&
                                absl::EqualsIgnoreCase(AbslView(rel), "data.pkl");
      Member(*zip, static_cast<int>(i), where, depth, torch_pickle);
    }
  }

  // One zip member: sniff its first bytes (tensor storages are never read
  // further) and scan what is recognised.
  void Member(ZipArchive& zip, int i, const std::string& where, int depth, bool torch_pickle) {
    const ZipEntry& e = zip.entries()[i];
    const std::string loc = StrCat(where, "!", EscapeForDisplay(e.name));
    if (e.flags & 0x41) {
      Incomplete("scan.archive.unscannable", "an encrypted member cannot be inspected", loc);
      return;
    }
    if (e.method != 0 && e.method != 8) {
      Incomplete("scan.archive.unscannable", StrCat("member compressed with method ", e.method,
                                                    " cannot be inspected"), loc);
      return;
    }
    std::vector<uint8_t> storage;
    absl::Span<const uint8_t> content;
    if (e.is_stored()) {
      content = zip.Payload(i);
    } else {
      // Deflated: inflate the head first; the whole member only if it is
      // something to scan.
      std::vector<uint8_t> head = InflateHead(zip.Payload(i), 4096);
      if (!Interesting(head) && !torch_pickle) {
        // Inflate a window; the whole member only when that still decodes.
        std::vector<uint8_t> window = InflateHead(zip.Payload(i), kPolyglotWindow + 1);
        PickleLimits limits;
        limits.record_items = false;
        PickleProgram p = DecodePickle(window, 0, limits);
        const bool clean_cut = window.size() > kPolyglotWindow && ErrorRule(p.status) == "pickle.truncated";
        if (!Runs(p) && !clean_cut) return;
      }
      if (e.uncompressed_size > std::min(options_.max_inflate, options_.max_inflate_total - inflated_total_)) {
        Incomplete("scan.archive.unscannable",
                   StrCat("member inflates to ", e.uncompressed_size, " bytes, over the decompression limit"), loc);
        return;
      }
      inflated_total_ += e.uncompressed_size;
      absl::StatusOr<absl::Span<const uint8_t>> c = zip.Read(i, &storage);
      if (!c.ok()) {
        Incomplete("scan.archive.malformed", StrCat("member does not inflate: ", ErrorDetail(c.status())), loc);
        return;
      }
      content = *c;
    }
    const absl::Span<const uint8_t> head = content.subspan(0, std::min<size_t>(content.size(), 4096));
    const bool may_run = !torch_pickle && MayRun(content);
    if (!torch_pickle && !Interesting(head) && !may_run) return;
    if (LooksLikePickle(content) || torch_pickle || may_run) {
      // A pickle: checking its CRC is cheap and catches a differential
      // (torch ignores CRCs, zipfile refuses them).
      absl::Status crc = zip.VerifyCrc(i);
      if (!crc.ok()) {
        Add(Severity::kHigh, "scan.zip.crc",
            StrCat("CRC-32 of the member does not match: torch loads it, Python's zipfile refuses it "
                   "(CVE-2025-10156)"), loc);
      }
      PickleStream(content, loc, depth + 1, torch_pickle);
      return;
    }
    Blob(content, loc, e.name, depth + 1);
  }

  // What is worth a closer look: pickles, archives, compressed streams,
  // executables, .npy, GGUF/JSON (templates).
  static bool Interesting(absl::Span<const uint8_t> head) {
    if (head.empty()) return false;
    if (LooksLikePickle(head) || LooksLikeZip(head) || LooksLikeNpy(head) || LooksLikeTar(head)) return true;
    static constexpr std::string_view kMagics[] = {
        "GGUF", "\x1f\x8b", "\x28\xb5\x2f\xfd", "7z\xbc\xaf\x27\x1c", "Rar!\x1a\x07", "BZh", "\xfd" "7zXZ",
        "\x04\x22\x4d\x18", "\x7f" "ELF", "MZ", "#!", "\xcf\xfa\xed\xfe", "\xce\xfa\xed\xfe", "\x89HDF",
    };
    for (std::string_view m : kMagics) {
      if (Starts(head, m)) return true;
    }
    if (head.size() >= 2 && (head[0] & 0x0F) == 8 && (head[0] >> 4) <= 7 && ((head[0] << 8) | head[1]) % 31 == 0 &&
        !(head[1] & 0x20)) {
      return true;
    }
    return LooksLikeJson(head);
  }

  static std::vector<uint8_t> InflateHead(absl::Span<const uint8_t> in, size_t n) {
    std::vector<uint8_t> out(n);
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return {};
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), 1u << 30));
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(n);
    inflate(&z, Z_SYNC_FLUSH);
    out.resize(n - z.avail_out);
    inflateEnd(&z);
    return out;
  }

  // ---- compressed streams ------------------------------------------------------
  // One bounded decompression loop for every codec: `step` consumes input
  // and produces at most `out_len` bytes, returning its progress.
  enum class Step { kMore, kEnd, kError };
  using StepFn = std::function<Step(const uint8_t* in, size_t in_len, size_t* in_used, uint8_t* out,
                                    size_t out_len, size_t* out_made)>;

  // Returns false when the stream fails before producing anything (the
  // bytes were something else); otherwise scans what came out.
  bool Decompress(absl::Span<const uint8_t> b, const std::string& where, int depth, std::string_view kind,
                  const StepFn& step, bool quiet_if_empty) {
    std::vector<uint8_t> out;
    size_t in_pos = 0;
    Step st = Step::kMore;
    bool capped = false;
    // Per stream and for the whole scan (nested bombs multiply otherwise).
    const uint64_t budget = std::min(options_.max_inflate, options_.max_inflate_total - inflated_total_);
    while (st == Step::kMore) {
      if (out.size() >= budget) {
        capped = true;
        break;
      }
      const size_t chunk = std::min<uint64_t>(1 << 20, budget - out.size());
      const size_t old = out.size();
      out.resize(old + chunk);
      size_t used = 0, made = 0;
      st = step(b.data() + in_pos, b.size() - in_pos, &used, out.data() + old, chunk, &made);
      in_pos += used;
      out.resize(old + made);
      if (st == Step::kMore && used == 0 && made == 0) st = Step::kError;  // no progress: truncated
    }
    inflated_total_ += out.size();
    if (st == Step::kError && out.empty() && quiet_if_empty) return false;
    const std::string loc = StrCat(where, "!<", kind, ">");
    if (capped) {
      Incomplete("scan.archive.unscannable", StrCat(kind, " stream decompresses to more than ", budget,
                                                    " bytes (per-stream and per-scan limits); the rest was not "
                                                    "scanned"), loc);
    } else if (st == Step::kError) {
      Incomplete("scan.archive.malformed", StrCat(kind, " stream is corrupt or truncated; scanned the ",
                                                  out.size(), " bytes it yields"), loc);
    }
    Blob(out, loc, "", depth + 1);
    std::vector<uint8_t>().swap(out);  // release before scanning what follows
    if (!capped && st == Step::kEnd && in_pos < b.size()) {
      Add(Severity::kMedium, "scan.archive.trailing",
          StrCat(b.size() - in_pos, " bytes follow the ", kind, " stream (scanned too)"), At(where, in_pos));
      Blob(b.subspan(in_pos), where, "", depth + 1);
    }
    return true;
  }

  // Codecs take at most 1 GiB of input per call (their length types).
  static size_t Clamp(size_t n) { return std::min<size_t>(n, 1u << 30); }

  bool Inflate(absl::Span<const uint8_t> b, const std::string& where, int depth, std::string_view kind) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) return false;  // gzip or zlib header
    bool ok = Decompress(b, where, depth, kind,
                         [&](const uint8_t* in, size_t in_len, size_t* used, uint8_t* out, size_t out_len,
                             size_t* made) {
                           z.next_in = const_cast<Bytef*>(in);
                           z.avail_in = static_cast<uInt>(Clamp(in_len));
                           z.next_out = out;
                           z.avail_out = static_cast<uInt>(out_len);
                           const uInt in0 = z.avail_in;
                           int rc = inflate(&z, Z_NO_FLUSH);
                           *used = in0 - z.avail_in;
                           *made = out_len - z.avail_out;
                           if (rc == Z_STREAM_END) return Step::kEnd;
                           return rc == Z_OK || rc == Z_BUF_ERROR ? Step::kMore : Step::kError;
                         },
                         /*quiet_if_empty=*/kind == "zlib");
    inflateEnd(&z);
    return ok;
  }

  void Zstd(absl::Span<const uint8_t> b, const std::string& where, int depth) {
    ZSTD_DStream* d = ZSTD_createDStream();
    ZSTD_initDStream(d);
    Decompress(b, where, depth, "zstd",
               [&](const uint8_t* in, size_t in_len, size_t* used, uint8_t* out, size_t out_len, size_t* made) {
                 ZSTD_inBuffer i{in, in_len, 0};
                 ZSTD_outBuffer o{out, out_len, 0};
                 size_t rc = ZSTD_decompressStream(d, &o, &i);
                 *used = i.pos;
                 *made = o.pos;
                 if (ZSTD_isError(rc)) return Step::kError;
                 return rc == 0 ? Step::kEnd : Step::kMore;
               },
               false);
    ZSTD_freeDStream(d);
  }

  void Bzip2(absl::Span<const uint8_t> b, const std::string& where, int depth) {
    bz_stream z{};
    if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK) return;
    Decompress(b, where, depth, "bzip2",
               [&](const uint8_t* in, size_t in_len, size_t* used, uint8_t* out, size_t out_len, size_t* made) {
                 z.next_in = const_cast<char*>(reinterpret_cast<const char*>(in));
                 z.avail_in = static_cast<unsigned>(Clamp(in_len));
                 z.next_out = reinterpret_cast<char*>(out);
                 z.avail_out = static_cast<unsigned>(out_len);
                 const unsigned in0 = z.avail_in;
                 int rc = BZ2_bzDecompress(&z);
                 *used = in0 - z.avail_in;
                 *made = out_len - z.avail_out;
                 if (rc == BZ_STREAM_END) return Step::kEnd;
                 return rc == BZ_OK ? Step::kMore : Step::kError;
               },
               false);
    BZ2_bzDecompressEnd(&z);
  }

  // xz and the legacy .lzma format (joblib's "xz" and "lzma").
  void Xz(absl::Span<const uint8_t> b, const std::string& where, int depth, std::string_view kind) {
    lzma_stream z = LZMA_STREAM_INIT;
    if (lzma_auto_decoder(&z, UINT64_MAX, 0) != LZMA_OK) return;
    Decompress(b, where, depth, kind,
               [&](const uint8_t* in, size_t in_len, size_t* used, uint8_t* out, size_t out_len, size_t* made) {
                 z.next_in = in;
                 z.avail_in = in_len;
                 z.next_out = out;
                 z.avail_out = out_len;
                 lzma_ret rc = lzma_code(&z, in_len == 0 ? LZMA_FINISH : LZMA_RUN);
                 *used = in_len - z.avail_in;
                 *made = out_len - z.avail_out;
                 if (rc == LZMA_STREAM_END) return Step::kEnd;
                 return rc == LZMA_OK ? Step::kMore : Step::kError;
               },
               false);
    lzma_end(&z);
  }

  // ---- tar ---------------------------------------------------------------------
  void Tar(absl::Span<const uint8_t> b, const std::string& where, int depth) {
    absl::StatusOr<std::vector<TarMember>> members = ReadTar(b);
    if (!members.ok()) {
      Incomplete("scan.archive.malformed", StrCat("tar archive does not parse: ", ErrorDetail(members.status())),
                 At(where, ErrorOffset(members.status()).value_or(0)));
      return;
    }
    absl::flat_hash_map<std::string, absl::Span<const uint8_t>> by_name;
    for (const TarMember& m : *members) {
      if (m.type == '0' || m.type == '7') by_name[m.name] = m.data;
    }
    // torch's legacy tar: `storages` and `tensors` interleave pickles with raw
    // data, so they are walked record by record.
    const bool legacy = by_name.contains("storages") && by_name.contains("tensors") && by_name.contains("pickle");
    for (const TarMember& m : *members) {
      if (m.type != '0' && m.type != '7') continue;
      const std::string loc = StrCat(where, "!", EscapeForDisplay(m.name));
      if (legacy && (m.name == "storages" || m.name == "tensors")) {
        LegacyTarSections(m.data, loc, depth, m.name == "storages");
      } else {
        Blob(m.data, loc, m.name, depth + 1);
      }
    }
  }

  // torch 0.1.x tar members: `storages` = pickle(count), then per storage
  // pickle((key, location, storage_type)) + int64 numel + data, then
  // pickle(views); `tensors` = pickle(count), then per tensor
  // pickle((key, storage_id, type)) + int32 ndim + 4 pad + 2·ndim int64 + int64.
  void LegacyTarSections(absl::Span<const uint8_t> b, const std::string& where, int depth, bool storages) {
    uint64_t pos = 0;
    const auto next = [&](PickleProgram* out) -> bool {
      *out = DecodeOne(b.subspan(pos), pos, /*items=*/true);
      Judge(*out, where, depth, /*torch=*/false);
      if (!out->complete()) return false;
      pos = out->end;
      return true;
    };
    PickleProgram count_p;
    if (!next(&count_p)) return;
    const PickleNode& c = count_p.node(count_p.root);
    if (c.kind != PickleKind::kInt || c.int_value < 0) {
      Incomplete("scan.archive.malformed", "legacy tar section does not start with a count", At(where, 0));
      return;
    }
    for (int64_t i = 0; i < c.int_value; ++i) {
      PickleProgram p;
      if (!next(&p)) return;
      uint64_t skip = 0;
      if (storages) {
        // elsize from the storage type global in (key, location, type).
        const PickleNode& t = p.node(p.root);
        uint32_t elsize = 0;
        if (t.kind == PickleKind::kTuple && t.items.size() == 3 && p.node(t.items[2]).kind == PickleKind::kGlobal) {
          std::string_view cls = p.node(t.items[2]).name;
          if (auto st = TorchStorageByClass(cls)) elsize = st->elsize;
        }
        if (elsize == 0 || b.size() - pos < 8) {
          Incomplete("scan.archive.malformed", "legacy tar storage record is not (key, location, storage type)",
                     At(where, pos));
          return;
        }
        uint64_t numel = 0;
        std::memcpy(&numel, b.data() + pos, 8);
        std::optional<uint64_t> nb = CheckedMul(numel, elsize);
        if (!nb || *nb > b.size() - pos - 8) {
          Incomplete("scan.archive.malformed", "legacy tar storage runs past its member", At(where, pos));
          return;
        }
        skip = 8 + *nb;
      } else {
        if (b.size() - pos < 8) {
          Incomplete("scan.archive.malformed", "legacy tar tensor record is cut off", At(where, pos));
          return;
        }
        int32_t ndim;
        std::memcpy(&ndim, b.data() + pos, 4);
        if (ndim < 0 || ndim > 64 || b.size() - pos < 8 + 16ull * ndim + 8) {
          Incomplete("scan.archive.malformed", "legacy tar tensor record is invalid", At(where, pos));
          return;
        }
        skip = 8 + 16ull * ndim + 8;
      }
      pos += skip;
    }
    if (storages) {
      PickleProgram views;
      next(&views);
    }
  }

  // ---- legacy stacked torch ------------------------------------------------
  void LegacyTorch(absl::Span<const uint8_t> b, const std::string& where, int depth) {
    // magic, protocol, sys_info, object, storage keys: all five run.
    uint64_t pos = 0;
    for (int i = 0; i < 5; ++i) {
      PickleProgram p = DecodeOne(b.subspan(pos), pos);
      Judge(p, where, depth, /*torch=*/i == 3);
      if (!p.complete()) return;
      pos = p.end;
    }
    // Raw storages follow (never read).
  }

  // ---- pickles ---------------------------------------------------------------
  // `items`: keep container items (needed to read legacy tar records).
  PickleProgram DecodeOne(absl::Span<const uint8_t> b, uint64_t base, bool items = false) {
    PickleLimits limits;
    limits.max_opcodes = options_.max_pickle_opcodes;
    limits.record_items = items;
    return DecodePickle(b, base, limits);
  }

  // A pickle stream: the first pickle (what pickle.load runs), then whatever
  // follows: more pickles (a loader calling load() again runs them; scanners
  // that stop at the first miss them) or trailing data.
  void PickleStream(absl::Span<const uint8_t> b, const std::string& where, int depth, bool torch,
                    uint64_t base = 0) {
    uint64_t pos = 0;
    int n = 0;
    while (pos < b.size()) {
      PickleProgram p = DecodeOne(b.subspan(pos), base + pos);
      Judge(p, where, depth, torch && n == 0);
      ++n;
      if (!p.complete()) return;
      pos = p.end - base;
      if (pos >= b.size()) break;
      absl::Span<const uint8_t> rest = b.subspan(pos);
      if (LooksLikePickle(rest)) {
        Add(Severity::kMedium, "scan.pickle.multiple",
            "another pickle follows STOP: loaders that call load() repeatedly run it (scanned too)",
            At(where, base + pos));
        continue;
      }
      Add(Severity::kMedium, "scan.pickle.data_after_stop",
          StrCat(rest.size(), " bytes follow the pickle's STOP; the loader ignores them"), At(where, base + pos));
      // Anything recognisable hidden there is scanned too.
      if (Interesting(rest.subspan(0, std::min<size_t>(rest.size(), 4096)))) Blob(rest, where, "", depth + 1);
      break;
    }
  }

  std::string Describe(const PickleProgram& p, uint32_t node) const {
    if (node == kNoNode) return "a value";
    const PickleNode& n = p.node(node);
    if (n.kind == PickleKind::kGlobal) return CanonicalGlobal(n.text, n.name);
    if (n.kind == PickleKind::kExt) return StrCat("extension code ", n.int_value);
    if (n.kind == PickleKind::kObject && !n.items.empty()) return StrCat("the result of calling ", Describe(p, n.items[0]));
    return StrCat("a ", PickleKindName(n.kind));
  }

  // Classification of the callable of a call (allowed or not).
  bool CallableAllowed(const PickleProgram& p, uint32_t node, int depth = 0) const {
    if (node == kNoNode || depth > 4) return false;
    const PickleNode& n = p.node(node);
    if (n.kind == PickleKind::kGlobal) return ClassifyGlobal(n.text, n.name).cls == GlobalClass::kAllowed;
    // BUILD / SETITEMS on the result of an allowed call (OrderedDict(),
    // _rebuild_tensor_v2(...)) is what torch.save writes.
    if (n.kind == PickleKind::kObject && !n.items.empty()) return CallableAllowed(p, n.items[0], depth + 1);
    return false;
  }

  void Judge(const PickleProgram& p, const std::string& where, int depth, bool torch) {
    for (const PickleImport& imp : p.imports) {
      if (imp.opcode == 0x82 || imp.opcode == 0x83 || imp.opcode == 0x84) {
        Add(Severity::kHigh, "scan.pickle.ext_code",
            StrCat(PickleOpcodeName(imp.opcode), " imports extension code ", p.node(imp.node).int_value,
                   " from the copyreg registry: what it names depends on the loading process"),
            At(where, imp.offset));
        continue;
      }
      GlobalVerdict v = ClassifyGlobal(imp.module, imp.name);
      const std::string shown = StrCat("'", EscapeForDisplay(v.canonical), "'");
      if (v.cls == GlobalClass::kDangerous) {
        Add(Severity::kCritical, "scan.pickle.dangerous_import",
            StrCat(PickleOpcodeName(imp.opcode), " imports ", shown, ": ", v.reason), At(where, imp.offset));
      } else if (v.cls == GlobalClass::kUnknown) {
        Add(Severity::kHigh, "scan.pickle.unknown_import",
            StrCat(PickleOpcodeName(imp.opcode), " imports ", shown,
                   ", which is not on the weights-only allowlist (loading imports it)"),
            At(where, imp.offset));
      }
    }
    for (const PickleCall& call : p.calls) {
      const uint8_t op = call.opcode;
      if (op == 'P' || op == 'Q') continue;  // persistent_load: the loader's own function
      if (op == 'b' && call.callable != kNoNode && p.node(call.callable).kind == PickleKind::kObject &&
          absl::StartsWith(AbslView(Describe(p, call.callable)), "the result of calling torch._utils._rebuild_")) {
        // Allowed by weights-only loading, never written by torch.save: the
        // state replaces the tensor's storage, so the weights loaded are not
        // the ones in the checkpoint's storages ("sleepy pickle").
        Add(Severity::kMedium, "scan.pickle.tensor_state",
            "BUILD sets state on a rebuilt tensor: torch calls set_() and loads other weights than the storages "
            "hold", At(where, call.offset));
        continue;
      }
      if (CallableAllowed(p, call.callable)) continue;
      std::string what = Describe(p, call.callable);
      std::string verb = op == 'b' ? "BUILD sets state on" : (op == 'a' || op == 'e' || op == 's' || op == 'u' || op == 0x90)
                                                                  ? StrCat(PickleOpcodeName(op), " calls a method of")
                                                                  : StrCat(PickleOpcodeName(op), " calls");
      Add(Severity::kHigh, "scan.pickle.unknown_call", StrCat(verb, " ", what), At(where, call.offset));
    }
    for (const PickleAnomaly& a : p.anomalies) {
      // A frame that cuts an opcode is never written by pickle itself: it
      // exists to make parsers disagree (the C unpickler reading a file
      // refills at the frame end and can run code pickletools never shows).
      // A global whose name is computed at load time cannot be judged
      // statically: as bad as an unknown one.
      const bool high = a.rule == "pickle.frame_mismatch" || a.rule == "pickle.dynamic_global";
      Add(high ? Severity::kHigh : Severity::kLow, StrCat("scan.", a.rule),
          StrCat(a.message, a.rule == "pickle.frame_mismatch"
                                ? ": Python's pickle, pickletools and the C unpickler split this stream differently"
                                : ""),
          At(where, a.offset));
    }
    if (torch) {
      if (p.protocol > 2) {
        Add(Severity::kLow, "scan.pickle.protocol",
            StrCat("protocol ", p.protocol, " in a torch pickle (torch.save writes protocol 2)"), At(where, p.offset));
      }
      for (int op = 0; op < 256; ++op) {
        if (p.first_use[op] != UINT64_MAX && !IsWeightsOnlyOpcode(static_cast<uint8_t>(op))) {
          Add(Severity::kMedium, "scan.pickle.not_weights_only",
              StrCat("opcode ", PickleOpcodeName(static_cast<uint8_t>(op)),
                     " in a torch pickle: torch.save never writes it and weights-only loading refuses it"),
              At(where, p.first_use[op]));
        }
      }
    }
    if (!p.complete()) {
      const std::string rule = ErrorRule(p.status);
      if (rule == "pickle.memo_missing") {
        Add(Severity::kMedium, "scan.pickle.memo_missing",
            StrCat(ErrorDetail(p.status), ": the loader fails here, static scanners may resolve it differently"),
            At(where, ErrorOffset(p.status).value_or(p.offset)));
      }
      Incomplete("scan.pickle.malformed",
                 StrCat("the pickle cannot be fully decoded (", ErrorDetail(p.status), " [", rule,
                        "]); everything before that point was scanned and a loader may already have run it"),
                 At(where, ErrorOffset(p.status).value_or(p.offset)));
    }
    // Byte strings that hold a pickle or an archive: pickle.loads(b"..."),
    // torch.storage._load_from_bytes(b"...") and friends.
    for (uint32_t i = 0; i < p.nodes.size(); ++i) {
      const PickleNode& n = p.nodes[i];
      if (n.text.size() < 8) continue;
      absl::Span<const uint8_t> bytes;
      std::string latin1;
      if (n.kind == PickleKind::kBytes || n.kind == PickleKind::kByteArray) {
        bytes = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(n.text.data()), n.text.size());
      } else if (n.kind == PickleKind::kString && (absl::StartsWith(AbslView(n.text), "\xc2\x80") ||
                                                   absl::StartsWith(AbslView(n.text), "PK"))) {
        // bytes pickled by torch as _codecs.encode(str, "latin1").
        if (!Latin1(n.text, &latin1)) continue;
        bytes = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(latin1.data()), latin1.size());
      } else {
        continue;
      }
      if (!Interesting(bytes.subspan(0, std::min<size_t>(bytes.size(), 4096)))) continue;
      Add(Severity::kMedium, "scan.pickle.nested",
          "a byte string inside the pickle holds another pickle or archive (scanned too)", At(where, n.offset));
      Blob(bytes, StrCat(where, "@", n.offset), "", depth + 1);
    }
  }

  static bool Latin1(std::string_view utf8, std::string* out) {
    out->clear();
    for (size_t i = 0; i < utf8.size(); ++i) {
      unsigned char c = utf8[i];
      if (c < 0x80) {
        out->push_back(static_cast<char>(c));
      } else if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size()) {
        out->push_back(static_cast<char>(((c & 0x03) << 6) | (utf8[++i] & 0x3F)));
      } else {
        return false;
      }
    }
    return true;
  }

  const ScanOptions& options_;
  ScanReport& r_;
  absl::flat_hash_map<std::string, size_t> index_;
  uint64_t dropped_ = 0;
  uint64_t inflated_total_ = 0;  // bytes decompressed so far in this scan
};

Verdict Decide(const ScanReport& r) {
  Severity worst = Severity::kInfo;
  for (const Finding& f : r.findings) worst = std::max(worst, f.severity);
  if (worst >= Severity::kHigh) return Verdict::kUnsafe;
  if (r.incomplete || r.io_error) return Verdict::kError;
  if (worst == Severity::kMedium) return Verdict::kSuspicious;
  return Verdict::kSafe;
}

}  // namespace

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "?";
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kSafe: return "safe";
    case Verdict::kSuspicious: return "suspicious";
    case Verdict::kUnsafe: return "unsafe";
    case Verdict::kError: return "error";
  }
  return "?";
}

ScanReport ScanBytes(absl::Span<const uint8_t> bytes, const std::string& name, const ScanOptions& options) {
  ScanReport r;
  r.path = name;
  std::string_view base = name;
  if (size_t slash = base.rfind('/'); slash != std::string_view::npos) base = base.substr(slash + 1);
  Scanner(options, &r).Blob(bytes, name, base, 0);
  std::stable_sort(r.findings.begin(), r.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
  r.verdict = Decide(r);
  return r;
}

ScanReport ScanPath(const std::string& path, const ScanOptions& options) {
  absl::StatusOr<MappedFile> f = MappedFile::Open(path);
  if (!f.ok()) {
    ScanReport r;
    r.path = path;
    if (ErrorRule(f.status()) == "file.empty") {
      r.format = "empty";
      return r;
    }
    r.io_error = true;
    r.findings.push_back({Severity::kInfo, "scan.io", std::string(f.status().message()), path, 1});
    r.verdict = Verdict::kError;
    return r;
  }
  return ScanBytes(f->bytes(), path, options);
}

}  // namespace ckpt
