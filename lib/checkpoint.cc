#include "lib/str_util.h"
#include "ckpt/checkpoint.h"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ckpt/gguf.h"
#include "ckpt/mapped_file.h"
#include "ckpt/numpy.h"
#include "ckpt/pytorch.h"
#include "ckpt/zip.h"
#include "ckpt/safetensors.h"
#include "ckpt/safetensors_sharded.h"
#include "ckpt/status.h"
#include "lib/fs_util.h"
#include "absl/strings/match.h"

namespace ckpt {
namespace {

namespace fs = std::filesystem;

bool StartsWith(absl::Span<const uint8_t> b, std::string_view prefix, size_t at = 0) {
  return b.size() >= at + prefix.size() && std::memcmp(b.data() + at, prefix.data(), prefix.size()) == 0;
}

// A Safetensors file has no magic: its shape is an 8-byte length followed by
// a JSON object, possibly after JSON whitespace (writers may pad the front of
// the header to page-align the data).
bool LooksLikeSafetensors(absl::Span<const uint8_t> b) {
  if (b.size() < 8) return false;
  uint64_t n;
  std::memcpy(&n, b.data(), 8);
  const uint64_t limit = 8 + std::min<uint64_t>(n, b.size() - 8);
  for (size_t i = 8; i < limit; ++i) {
    const uint8_t c = b[i];
    if (c == '{') return true;
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return false;
  }
  return false;
}

// A small JSON object naming a weight_map: a sharded checkpoint's index.
bool LooksLikeIndex(absl::Span<const uint8_t> b) {
  size_t i = 0;
  while (i < b.size() && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) ++i;
  if (i >= b.size() || b[i] != '{') return false;
  const std::string_view all(reinterpret_cast<const char*>(b.data()), b.size());
  return all.find("\"weight_map\"") != std::string_view::npos;
}

// An .npz is a zip whose members are all .npy arrays (a torch checkpoint
// has data.pkl and storages).
bool IsNpz(absl::Span<const uint8_t> b) {
  absl::StatusOr<ZipArchive> zip = ZipArchive::Open(b);
  if (!zip.ok() || zip->entries().empty()) return false;
  for (const ZipEntry& e : zip->entries()) {
    if (!e.is_directory() && !absl::EndsWith(AbslView(e.name), ".npy")) return false;
  }
  return true;
}

absl::Status Unrecognized(const std::string& path, std::string what) {
  return Error("format.unrecognized", StrCat("not a supported checkpoint: ", what))
      .File(path)
      .Code(absl::StatusCode::kFailedPrecondition);
}

}  // namespace

std::string DescribeUnknownContent(absl::Span<const uint8_t> b) {
  if (b.size() < 8) return StrCat("too short (", b.size(), " bytes)");
  if (b[0] == 0x80 && b[1] >= 2 && b[1] <= 5) return StrCat("looks like a Python pickle (protocol ", b[1], ")");
  if (StartsWith(b, "PK\x03\x04") || StartsWith(b, "PK\x05\x06")) return "looks like a zip archive (a PyTorch checkpoint?)";
  if (StartsWith(b, "version https://git-lfs")) return "a Git LFS pointer, not the file it points to";
  if (StartsWith(b, "\x93NUMPY")) return "a NumPy .npy array";
  if (StartsWith(b, "\x1f\x8b")) return "gzip-compressed data";
  if (StartsWith(b, "\x28\xb5\x2f\xfd")) return "zstd-compressed data";
  if (StartsWith(b, "7z\xbc\xaf\x27\x1c")) return "a 7-Zip archive";
  if (StartsWith(b, "\x89HDF")) return "an HDF5 file (Keras?)";
  if (StartsWith(b, "ustar", 257)) return "a tar archive";
  if (StartsWith(b, "<!DOCTYPE") || StartsWith(b, "<html") || StartsWith(b, "<?xml")) {
    return "an HTML/XML document (a failed download?)";
  }
  std::string hex;
  for (size_t i = 0; i < 8; ++i) absl::StrAppendFormat(&hex, "%s%02x", i ? " " : "", b[i]);
  return StrCat("unknown content (first bytes ", hex, ")");
}

const nlohmann::ordered_json& Checkpoint::metadata() const {
  if (!metadata_built_) {
    metadata_built_ = true;
    const GgufFile& f = *gguf_files_[0];
    // Keys are unique (the reader checked): append without ordered_json's
    // linear search per key.
    auto& entries = static_cast<nlohmann::ordered_json::object_t::Container&>(
        metadata_.get_ref<nlohmann::ordered_json::object_t&>());
    entries.reserve(f.kvs().size());
    for (const GgufKv& kv : f.kvs()) entries.emplace_back(std::string(kv.key), f.ToJson(kv.value));
  }
  return metadata_;
}

absl::StatusOr<Checkpoint> Checkpoint::OpenGguf(const std::string& path, const OpenOptions& options) {
  GgufOptions g;
  g.strict = options.strict;
  g.reference_compatible = options.reference_compatible;
  CKPT_ASSIGN_OR_RETURN(GgufSplitSet set, OpenGgufSplits(path, g));
  Checkpoint c;
  c.path_ = path;
  c.format_ = "gguf";
  const GgufFile& first = *set.files[0];
  c.version_ = first.version();
  c.metadata_built_ = false;
  for (size_t s = 0; s < set.files.size(); ++s) {
    const GgufFile& f = *set.files[s];
    for (size_t i = 0; i < f.size(); ++i) {
      c.tensors_.push_back(f.tensor(i));
      c.tensor_file_.push_back(static_cast<uint32_t>(s));
    }
    for (const std::string& w : f.warnings()) {
      c.warnings_.push_back(set.files.size() > 1 ? StrCat(set.paths[s], ": ", w) : w);
    }
  }
  c.files_ = set.paths;
  c.details_["alignment"] = first.alignment();
  c.details_["endian"] = first.big_endian() ? "big" : "little";
  c.details_["data_offset"] = first.data_offset();
  c.details_["file_nbytes"] = first.file_nbytes();
  if (set.files.size() > 1) c.details_["splits"] = set.paths;
  c.gguf_files_ = std::move(set.files);
  return c;
}

namespace {

// A PyTorch or NumPy file plus the contiguous copies of the tensors that are
// not plain views of it (strided, big-endian or compressed).
template <typename File>
struct GatheredFile {
  explicit GatheredFile(File f) : file(std::move(f)) {}
  File file;
  std::vector<std::vector<uint8_t>> gathered;
};

}  // namespace

absl::StatusOr<Checkpoint> Checkpoint::OpenPyTorch(MappedFile mapped, const OpenOptions& options) {
  Checkpoint c;
  c.path_ = mapped.path();
  c.format_ = "pytorch";
  CKPT_ASSIGN_OR_RETURN(PyTorchFile f, PyTorchFile::Open(std::move(mapped)));
  if (options.verify_checksums) CKPT_RETURN_IF_ERROR(f.VerifyData());
  auto holder = std::make_shared<GatheredFile<PyTorchFile>>(std::move(f));
  const PyTorchFile& pt = holder->file;
  c.files_.push_back(c.path_);
  for (size_t i = 0; i < pt.tensors().size(); ++i) {
    const TorchTensor& t = pt.tensors()[i];
    TensorView v;
    v.name = t.name;
    v.dtype = t.dtype;
    v.shape = t.shape;
    v.offset = pt.TensorOffset(i);
    if (pt.IsZeroCopy(i)) {
      std::vector<uint8_t> unused;
      v.data = pt.TensorBytes(i, &unused);
    } else {
      std::vector<uint8_t>& buf = holder->gathered.emplace_back();
      v.data = pt.TensorBytes(i, &buf);
    }
    c.tensors_.push_back(v);
    c.tensor_file_.push_back(0);
  }
  c.metadata_ = pt.metadata();
  c.warnings_ = pt.warnings();
  c.details_["container"] = pt.container();
  c.details_["byteorder"] = pt.big_endian() ? "big" : "little";
  c.details_["storages"] = pt.storages().size();
  c.details_["file_nbytes"] = pt.bytes().size();
  c.owner_ = holder;
  return c;
}

absl::StatusOr<Checkpoint> Checkpoint::OpenNumpy(MappedFile mapped) {
  Checkpoint c;
  c.path_ = mapped.path();
  c.format_ = "numpy";
  CKPT_ASSIGN_OR_RETURN(NumpyFile f, NumpyFile::Open(std::move(mapped)));
  auto holder = std::make_shared<GatheredFile<NumpyFile>>(std::move(f));
  const NumpyFile& np = holder->file;
  c.files_.push_back(c.path_);
  for (size_t i = 0; i < np.arrays().size(); ++i) {
    const NpyArray& a = np.arrays()[i];
    TensorView v;
    v.name = a.name;
    v.dtype = a.dtype;
    v.shape = a.shape;
    v.offset = a.offset;
    if (np.IsZeroCopy(i)) {
      std::vector<uint8_t> unused;
      v.data = np.TensorBytes(i, &unused);
    } else {
      std::vector<uint8_t>& buf = holder->gathered.emplace_back();
      v.data = np.TensorBytes(i, &buf);
    }
    c.tensors_.push_back(v);
    c.tensor_file_.push_back(0);
  }
  c.warnings_ = np.warnings();
  c.details_["container"] = np.container();
  c.owner_ = holder;
  return c;
}

absl::StatusOr<Checkpoint> Checkpoint::Open(const std::string& path, const OpenOptions& options) {
  Checkpoint c;
  c.path_ = path;
  SafetensorsOptions st_options;
  st_options.strict = options.strict;

  struct stat st;
  std::shared_ptr<ShardedSafetensors> sharded;
  std::shared_ptr<SafetensorsFile> single;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::error_code ec;
    const bool has_index = fs::exists(fs::path(path) / kSafetensorsIndexName, ec);
    if (!has_index) {
      // A directory with a single model file and no index is that file.
      CKPT_ASSIGN_OR_RETURN(const std::vector<std::string> names, ListDirectory(path));
      std::vector<std::string> files;
      for (const std::string& n : names) {
        if (absl::EndsWith(n, ".safetensors")) files.push_back((fs::path(path) / n).string());
      }
      if (files.size() == 1) return Open(files[0], options);
    }
    absl::StatusOr<ShardedSafetensors> s = ShardedSafetensors::Open(path, st_options);
    if (!s.ok()) {
      if (ErrorRule(s.status()) == "safetensors.index.missing") {
        return Unrecognized(path, "a directory without model.safetensors.index.json");
      }
      return s.status();
    }
    sharded = std::make_shared<ShardedSafetensors>(*std::move(s));
  } else {
    CKPT_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
    if (StartsWith(file.bytes(), "GGUF")) return OpenGguf(path, options);
    if (LooksLikeNpy(file.bytes()) || (LooksLikeZip(file.bytes()) && IsNpz(file.bytes()))) {
      return OpenNumpy(std::move(file));
    }
    if (LooksLikePyTorch(file.bytes())) return OpenPyTorch(std::move(file), options);
    if (LooksLikeSafetensors(file.bytes())) {
      CKPT_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::Open(std::move(file), st_options));
      single = std::make_shared<SafetensorsFile>(std::move(f));
    } else if (LooksLikeIndex(file.bytes())) {
      CKPT_ASSIGN_OR_RETURN(ShardedSafetensors s, ShardedSafetensors::Open(path, st_options));
      sharded = std::make_shared<ShardedSafetensors>(std::move(s));
    } else {
      return Unrecognized(path, DescribeUnknownContent(file.bytes().subspan(0, 4096)));
    }
  }

  c.format_ = "safetensors";
  const auto set_metadata = [&](const SafetensorsFile& f) {
    if (!f.metadata()) return;
    c.string_metadata_ = f.metadata();
    // Keys are unique (the reader resolved duplicates), so append to the
    // underlying vector: ordered_json's operator[] searches linearly.
    auto& entries = static_cast<nlohmann::ordered_json::object_t::Container&>(
        c.metadata_.get_ref<nlohmann::ordered_json::object_t&>());
    entries.reserve(f.metadata()->size());
    for (const auto& [k, v] : *f.metadata()) entries.emplace_back(k, v);
  };
  if (single) {
    set_metadata(*single);
    c.files_.push_back(path);
    c.tensors_.reserve(single->size());
    c.tensor_file_.reserve(single->size());
    for (size_t i = 0; i < single->size(); ++i) {
      c.tensors_.push_back(single->tensor(i));
      c.tensor_file_.push_back(0);
    }
    c.warnings_ = single->warnings();
    c.details_["header_nbytes"] = single->header_nbytes();
    c.details_["data_offset"] = single->data_offset();
    c.details_["file_nbytes"] = single->file_nbytes();
    c.owner_ = single;
  } else {
    if (!sharded->shards().empty()) set_metadata(sharded->shards()[0]);
    const fs::path dir = fs::path(sharded->index_path()).parent_path();
    for (const std::string& name : sharded->shard_names()) c.files_.push_back((dir / name).string());
    for (size_t i = 0; i < sharded->tensors().size(); ++i) {
      c.tensors_.push_back(sharded->tensor(i));
      c.tensor_file_.push_back(sharded->tensors()[i].shard);
    }
    c.warnings_ = sharded->warnings();
    c.details_["index"] = sharded->index_path();
    c.details_["shards"] = sharded->shard_names();
    if (sharded->total_size()) c.details_["total_size"] = *sharded->total_size();
    c.owner_ = sharded;
  }
  return c;
}

}  // namespace ckpt
