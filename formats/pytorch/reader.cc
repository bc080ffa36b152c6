// PyTorch checkpoint reader: see include/ckpt/pytorch.h.
//
// Three steps, whatever the container:
//   1. find the object pickle (and, for legacy files, the pickles around it)
//      and decode it symbolically (lib/pickle);
//   2. refuse it unless every global is on torch's weights-only allowlist and
//      every call is one torch.save writes (CheckWeightsOnly);
//   3. walk the object graph from the root, turning rebuild calls into
//      tensors that refer to storages by key (ObjectWalker), then lay the
//      storages out for the container and check every view against them.
#include "ckpt/pytorch.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "ckpt/checked_math.h"
#include "ckpt/pickle.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "ckpt/zip.h"
#include "lib/pickle_policy.h"
#include "lib/strided.h"
#include "lib/tar.h"
#include "lib/str_util.h"

namespace ckpt {

namespace {

// The legacy format's first pickle: LONG1 0x1950a86a20f9469cfc6c.
constexpr uint8_t kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                    0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr int64_t kLegacyProtocolVersion = 1001;

// A storage as the pickle refers to it (before the container places it).
struct StorageRef {
  std::string key;
  TorchDType type;       // element type of the storage
  uint64_t numel = 0;    // in elements of `type`
  uint64_t first_offset = 0;  // where the pickle first named it
};

// A tensor found in the graph, before its storage is placed.
struct PendingTensor {
  TorchTensor tensor;
  uint64_t offset = 0;  // opcode offset of the rebuild call
};

std::string JoinPath(const std::string& prefix, std::string_view part) {
  return prefix.empty() ? std::string(part) : StrCat(prefix, ".", part);
}

}  // namespace

class PyTorchLoader {
 public:
  PyTorchLoader(PyTorchFile* f, const PyTorchOptions& options) : f_(*f), options_(options) {}

  absl::Status Load() {
    absl::Span<const uint8_t> b = f_.bytes_;
    if (LooksLikeZip(b)) return LoadZip();
    if (b.size() >= sizeof(kLegacyMagic) && std::memcmp(b.data(), kLegacyMagic, sizeof(kLegacyMagic)) == 0) {
      return LoadLegacy();
    }
    if (LooksLikeTar(b)) return LoadTar();
    return Error("pytorch.container", "not a PyTorch checkpoint (no zip, legacy or tar signature)").At(0);
  }

 private:
  // ---- zip ------------------------------------------------------------------
  absl::Status LoadZip() {
    f_.container_ = "zip";
    CKPT_ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::Open(f_.bytes_));
    if (!zip.issues().empty()) {
      const ZipIssue& i = zip.issues()[0];
      return Error("pytorch.zip", StrCat(i.message, " [", i.rule, "]; torch and other zip readers could "
                                         "see different files, so the checkpoint is refused"))
          .At(i.offset);
    }
    if (zip.entries().empty()) return Error("pytorch.container", "an empty zip archive").At(0);
    // torch takes the root folder from the first central-directory entry.
    std::string_view first = zip.entries()[0].name;
    size_t slash = first.find('/');
    if (slash == std::string_view::npos || slash == 0) {
      return Error("pytorch.container", StrCat("the first entry '", EscapeForDisplay(first),
                                               "' is not inside a root folder"))
          .At(zip.entries()[0].central_offset);
    }
    const std::string root(first.substr(0, slash + 1));
    for (const ZipEntry& e : zip.entries()) {
      if (!absl::StartsWith(AbslView(e.name), root)) {
        return Error("pytorch.container", StrCat("entry '", EscapeForDisplay(e.name), "' is outside the root folder '",
                                                 root, "'"))
            .At(e.central_offset);
      }
      std::string_view rel = e.name.substr(root.size());
      if (rel == "constants.pkl" || absl::StartsWith(AbslView(rel), "code/")) {
        return Error("pytorch.torchscript", "a TorchScript archive (torch.jit.save): it holds code and is not "
                                            "read; save the state_dict with torch.save instead")
            .At(e.central_offset).Code(absl::StatusCode::kUnimplemented);
      }
    }
    int pkl = zip.Find(StrCat(root, "data.pkl"));
    if (pkl < 0) return Error("pytorch.container", StrCat("no '", root, "data.pkl' entry")).At(0);
    CKPT_RETURN_IF_ERROR(zip.VerifyCrc(pkl));
    std::vector<uint8_t> pkl_storage;
    CKPT_ASSIGN_OR_RETURN(absl::Span<const uint8_t> pkl_bytes, zip.Read(pkl, &pkl_storage));
    const uint64_t pkl_offset = zip.entries()[pkl].data_offset;

    int bo = zip.Find(StrCat(root, "byteorder"));
    if (bo >= 0) {
      std::vector<uint8_t> tmp;
      CKPT_ASSIGN_OR_RETURN(absl::Span<const uint8_t> v, zip.Read(bo, &tmp));
      std::string_view s(reinterpret_cast<const char*>(v.data()), v.size());
      if (s == "big") {
        f_.big_endian_ = true;
      } else if (s != "little") {
        return Error("pytorch.container", StrCat("byteorder is '", EscapeForDisplay(s), "', not little or big"))
            .At(zip.entries()[bo].data_offset);
      }
    }

    CKPT_RETURN_IF_ERROR(DecodeObject(pkl_bytes, pkl_storage.empty() ? pkl_offset : 0));
    // Place storages: <root>/data/<key>.
    for (StorageRef& ref : refs_) {
      int e = zip.Find(StrCat(root, "data/", ref.key));
      if (e < 0) {
        return Error("pytorch.storage", StrCat("storage '", EscapeForDisplay(ref.key), "' has no entry '", root,
                                               "data/", EscapeForDisplay(ref.key), "'"))
            .At(ref.first_offset);
      }
      TorchStorage s;
      s.key = ref.key;
      s.dtype = *ref.type.dtype;
      const ZipEntry& entry = zip.entries()[e];
      if (entry.is_stored()) {
        s.data = zip.Payload(e);
      } else {
        auto owned = std::make_unique<std::vector<uint8_t>>();
        CKPT_ASSIGN_OR_RETURN(s.data, zip.Read(e, owned.get()));
        f_.owned_.push_back(std::move(owned));
      }
      s.offset = entry.data_offset;
      s.nbytes = s.data.size();
      // torch refuses a record whose size is not exactly numel × element
      // size; checking views against the whole record would read bytes
      // torch never gives the tensor.
      if (CheckedMul(ref.numel, ref.type.elsize) != std::optional<uint64_t>(s.nbytes)) {
        return Error("pytorch.storage", StrCat("storage '", EscapeForDisplay(ref.key), "' declares ", ref.numel,
                                               " elements of torch.", ref.type.name, " but its entry holds ",
                                               s.nbytes, " bytes"))
            .At(entry.data_offset);
      }
      storage_index_[ref.key] = static_cast<uint32_t>(f_.storages_.size());
      f_.storages_.push_back(std::move(s));
    }
    f_.zip_ = std::make_unique<ZipArchive>(std::move(zip));
    return FinishTensors();
  }

  // ---- legacy stacked --------------------------------------------------------
  absl::Status LoadLegacy() {
    f_.container_ = "legacy";
    absl::Span<const uint8_t> b = f_.bytes_;
    uint64_t pos = 0;
    const auto next = [&](std::string_view what, PickleProgram* out) -> absl::Status {
      PickleLimits limits;
      limits.max_opcodes = options_.max_pickle_opcodes;
      *out = DecodePickle(b.subspan(pos), pos, limits);
      if (!out->complete()) return Annotate(WithCode(out->status, absl::StatusCode::kInvalidArgument),
                                            StrCat("the ", what, " pickle: "));
      pos = out->end;
      return absl::OkStatus();
    };
    PickleProgram magic, proto, sys_info, keys;
    CKPT_RETURN_IF_ERROR(next("magic", &magic));
    CKPT_RETURN_IF_ERROR(CheckWeightsOnly(magic));
    // The signature bytes matched; the value the pickle returns must be the
    // magic number too (torch compares the value).
    const PickleNode& mv = magic.node(magic.root);
    if (mv.kind != PickleKind::kBigInt || !mv.big_binary ||
        mv.text != std::string_view(reinterpret_cast<const char*>(kLegacyMagic) + 4, 10)) {
      return Error("pytorch.container", "the legacy magic pickle does not return the magic number").At(mv.offset);
    }
    CKPT_RETURN_IF_ERROR(next("protocol", &proto));
    CKPT_RETURN_IF_ERROR(CheckWeightsOnly(proto));
    const PickleNode& pv = proto.node(proto.root);
    if (pv.kind != PickleKind::kInt || pv.int_value != kLegacyProtocolVersion) {
      return Error("pytorch.container", "the protocol pickle is not 1001").At(pv.offset);
    }
    CKPT_RETURN_IF_ERROR(next("sys_info", &sys_info));
    CKPT_RETURN_IF_ERROR(CheckWeightsOnly(sys_info));
    const PickleNode& si = sys_info.node(sys_info.root);
    if (si.kind == PickleKind::kDict) {
      for (size_t i = 0; i + 1 < si.items.size(); i += 2) {
        const PickleNode& k = sys_info.node(si.items[i]);
        const PickleNode& v = sys_info.node(si.items[i + 1]);
        // torch reads legacy storages in native (little-endian) order
        // whatever sys_info says; so do we, with a warning.
        if (k.kind == PickleKind::kString && k.text == "little_endian" && v.kind == PickleKind::kBool &&
            v.int_value == 0) {
          f_.warnings_.push_back("sys_info says big-endian; torch ignores it and reads little-endian, as ckpt does");
        }
      }
    } else {
      return Error("pytorch.container", "the sys_info pickle is not a dict").At(si.offset);
    }
    PickleLimits limits;
    limits.max_opcodes = options_.max_pickle_opcodes;
    PickleProgram object = DecodePickle(b.subspan(pos), pos, limits);
    if (!object.complete()) {
      return Annotate(WithCode(object.status, absl::StatusCode::kInvalidArgument), "the object pickle: ");
    }
    pos = object.end;
    CKPT_RETURN_IF_ERROR(InterpretObject(object));
    CKPT_RETURN_IF_ERROR(next("storage keys", &keys));
    CKPT_RETURN_IF_ERROR(CheckWeightsOnly(keys));
    const PickleNode& kl = keys.node(keys.root);
    if (kl.kind != PickleKind::kList) {
      return Error("pytorch.container", "the storage-keys pickle is not a list").At(kl.offset);
    }
    absl::flat_hash_map<std::string, size_t> ref_by_key;
    for (size_t i = 0; i < refs_.size(); ++i) ref_by_key[refs_[i].key] = i;
    std::vector<TorchStorage> placed(refs_.size());
    std::vector<bool> seen(refs_.size(), false);
    for (uint32_t item : kl.items) {
      const PickleNode& k = keys.node(item);
      if (k.kind != PickleKind::kString) {
        return Error("pytorch.storage", "a storage key is not a str").At(k.offset);
      }
      auto it = ref_by_key.find(AbslView(k.text));
      if (it == ref_by_key.end() || seen[it->second]) {
        return Error("pytorch.storage", StrCat("storage key '", EscapeForDisplay(k.text),
                                               it == ref_by_key.end() ? "' is not used by any tensor"
                                                                      : "' is listed twice"))
            .At(k.offset);
      }
      const StorageRef& ref = refs_[it->second];
      if (b.size() - pos < 8) {
        return Error("pytorch.storage", StrCat("storage '", EscapeForDisplay(ref.key), "' is cut off"))
            .At(pos);
      }
      uint64_t numel = 0;
      for (int i = 0; i < 8; ++i) {
        numel |= static_cast<uint64_t>(b[pos + (f_.big_endian_ ? 7 - i : i)]) << (8 * i);
      }
      std::optional<uint64_t> nbytes = CheckedMul(numel, ref.type.elsize);
      if (!nbytes || *nbytes > b.size() - pos - 8) {
        return Error("pytorch.storage", StrCat("storage '", EscapeForDisplay(ref.key), "' declares ", numel,
                                               " elements, past the end of the file"))
            .At(pos);
      }
      CKPT_RETURN_IF_ERROR(CheckStorageSize(ref, *nbytes, pos));
      TorchStorage& s = placed[it->second];
      s.key = ref.key;
      s.dtype = *ref.type.dtype;
      s.offset = pos + 8;
      s.nbytes = *nbytes;
      s.data = b.subspan(pos + 8, *nbytes);
      seen[it->second] = true;
      pos += 8 + *nbytes;
    }
    for (size_t i = 0; i < refs_.size(); ++i) {
      if (!seen[i]) {
        return Error("pytorch.storage", StrCat("storage '", EscapeForDisplay(refs_[i].key),
                                               "' is used but not in the storage-keys list"))
            .At(refs_[i].first_offset);
      }
      storage_index_[refs_[i].key] = static_cast<uint32_t>(i);
    }
    f_.storages_ = std::move(placed);
    if (pos != b.size()) {
      f_.warnings_.push_back(StrCat(b.size() - pos, " bytes after the last storage (offset ", pos, ") are ignored"));
    }
    return FinishTensors();
  }

  // ---- legacy tar (torch 0.1.x) ---------------------------------------------
  // Members: `storages` = pickle(count), then per storage pickle((key,
  // location, storage_type)) + int64 numel + bytes, then pickle([(view_key,
  // root_key, offset, numel)]); `tensors` = pickle(count), then per tensor
  // pickle((key, storage_key, type)) + int32 ndim + 4 pad bytes + ndim int64
  // sizes + ndim int64 strides + int64 storage offset; `pickle` = the object,
  // whose persistent ids are str(tensor key).
  absl::Status LoadTar() {
    f_.container_ = "tar";
    absl::Span<const uint8_t> b = f_.bytes_;
    CKPT_ASSIGN_OR_RETURN(std::vector<TarMember> members, ReadTar(b));
    const TarMember* storages = nullptr;
    const TarMember* tensors = nullptr;
    const TarMember* object = nullptr;
    for (const TarMember& m : members) {
      if (m.name == "storages") storages = &m;
      if (m.name == "tensors") tensors = &m;
      if (m.name == "pickle") object = &m;
    }
    if (!storages || !tensors || !object) {
      return Error("pytorch.container", "a tar archive without the storages, tensors and pickle members of a "
                                        "legacy torch checkpoint").At(0);
    }
    // storages
    uint64_t pos = 0;
    absl::Span<const uint8_t> sb = storages->data;
    const uint64_t sbase = storages->data_offset;
    PickleProgram count;
    CKPT_RETURN_IF_ERROR(NextPickle(sb, sbase, &pos, "storage count", &count));
    CKPT_ASSIGN_OR_RETURN(uint64_t n, CountOf(count, sb.size()));
    for (uint64_t i = 0; i < n; ++i) {
      PickleProgram rec;
      CKPT_RETURN_IF_ERROR(NextPickle(sb, sbase, &pos, "storage record", &rec));
      const PickleNode& t = rec.node(rec.root);
      if (t.kind != PickleKind::kTuple || t.items.size() != 3 || rec.node(t.items[0]).kind != PickleKind::kInt ||
          rec.node(t.items[2]).kind != PickleKind::kGlobal) {
        return Error("pytorch.storage", "a storage record is not (key, location, storage type)").At(t.offset);
      }
      const std::string key = StrCat(rec.node(t.items[0]).int_value);
      std::string_view cls = rec.node(t.items[2]).name;
      std::optional<TorchDType> type = TorchStorageByClass(cls);
      if (!type || !type->dtype) {
        return Error("pytorch.storage", StrCat("unsupported storage type '", EscapeForDisplay(cls), "'"))
            .At(rec.node(t.items[2]).offset);
      }
      if (sb.size() - pos < 8) return Error("pytorch.storage", "a storage is cut off").At(sbase + pos);
      uint64_t numel = 0;
      std::memcpy(&numel, sb.data() + pos, 8);
      std::optional<uint64_t> nbytes = CheckedMul(numel, type->elsize);
      if (!nbytes || *nbytes > sb.size() - pos - 8) {
        return Error("pytorch.storage", StrCat("storage ", key, " declares ", numel, " elements, past the end of "
                                               "its member")).At(sbase + pos);
      }
      if (ref_of_key_.contains(key)) return Error("pytorch.storage", StrCat("storage ", key, " appears twice")).At(t.offset);
      ref_of_key_[key] = static_cast<uint32_t>(refs_.size());
      refs_.push_back({key, *type, numel, t.offset});
      storage_index_[key] = static_cast<uint32_t>(f_.storages_.size());
      f_.storages_.push_back({key, *type->dtype, *nbytes, sbase + pos + 8, sb.subspan(pos + 8, *nbytes)});
      pos += 8 + *nbytes;
    }
    PickleProgram views;
    CKPT_RETURN_IF_ERROR(NextPickle(sb, sbase, &pos, "storage views", &views));
    // A view is a new storage key aliasing part of a root storage.
    const PickleNode& vl = views.node(views.root);
    if (vl.kind != PickleKind::kList) return Error("pytorch.storage", "storage views are not a list").At(vl.offset);
    for (uint32_t item : vl.items) {
      const PickleNode& v = views.node(item);
      if (v.kind != PickleKind::kTuple || v.items.size() != 4) {
        return Error("pytorch.storage", "a storage view is not (key, root, offset, numel)").At(v.offset);
      }
      int64_t f4[4];
      for (int k = 0; k < 4; ++k) {
        const PickleNode& x = views.node(v.items[k]);
        if (x.kind != PickleKind::kInt || x.int_value < 0) {
          return Error("pytorch.storage", "a storage view field is not a non-negative int").At(x.offset);
        }
        f4[k] = x.int_value;
      }
      const std::string key = StrCat(f4[0]), root = StrCat(f4[1]);
      auto it = storage_index_.find(root);
      if (it == storage_index_.end() || ref_of_key_.contains(key)) {
        return Error("pytorch.storage", StrCat("storage view ", key, " of root ", root, " is invalid")).At(v.offset);
      }
      const TorchStorage rs = f_.storages_[it->second];
      const uint32_t elsize = GetDTypeInfo(rs.dtype).block_bytes;
      std::optional<uint64_t> off = CheckedMul(f4[2], elsize), len = CheckedMul(f4[3], elsize);
      std::optional<uint64_t> end = off && len ? CheckedAdd(*off, *len) : std::nullopt;
      if (!end || *end > rs.nbytes) {
        return Error("pytorch.view", StrCat("storage view ", key, " reaches past its root storage")).At(v.offset);
      }
      ref_of_key_[key] = static_cast<uint32_t>(refs_.size());
      refs_.push_back({key, refs_[ref_of_key_[root]].type, static_cast<uint64_t>(f4[3]), v.offset});
      storage_index_[key] = static_cast<uint32_t>(f_.storages_.size());
      f_.storages_.push_back({key, rs.dtype, *len, rs.offset + *off, rs.data.subspan(*off, *len)});
    }
    // tensors
    pos = 0;
    absl::Span<const uint8_t> tb = tensors->data;
    const uint64_t tbase = tensors->data_offset;
    PickleProgram tcount;
    CKPT_RETURN_IF_ERROR(NextPickle(tb, tbase, &pos, "tensor count", &tcount));
    CKPT_ASSIGN_OR_RETURN(uint64_t nt, CountOf(tcount, tb.size()));
    for (uint64_t i = 0; i < nt; ++i) {
      PickleProgram rec;
      CKPT_RETURN_IF_ERROR(NextPickle(tb, tbase, &pos, "tensor record", &rec));
      const PickleNode& t = rec.node(rec.root);
      if (t.kind != PickleKind::kTuple || t.items.size() != 3 || rec.node(t.items[0]).kind != PickleKind::kInt ||
          rec.node(t.items[1]).kind != PickleKind::kInt) {
        return Error("pytorch.structure", "a tensor record is not (key, storage key, type)").At(t.offset);
      }
      const std::string storage_key = StrCat(rec.node(t.items[1]).int_value);
      auto sit = ref_of_key_.find(storage_key);
      if (sit == ref_of_key_.end()) {
        return Error("pytorch.storage", StrCat("tensor record names storage ", storage_key, ", which does not exist"))
            .At(t.offset);
      }
      if (tb.size() - pos < 8) return Error("pytorch.view", "a tensor record is cut off").At(tbase + pos);
      int32_t ndim;
      std::memcpy(&ndim, tb.data() + pos, 4);
      if (ndim < 0 || ndim > 64 || tb.size() - pos - 8 < 16ull * ndim + 8) {
        return Error("pytorch.view", StrCat("a tensor record with ", ndim, " dimensions")).At(tbase + pos);
      }
      TorchTensor tensor;
      tensor.dtype = f_.storages_[storage_index_[storage_key]].dtype;
      tensor.storage = sit->second;
      const uint8_t* p = tb.data() + pos + 8;
      for (int32_t d = 0; d < ndim; ++d) {
        int64_t size, stride;
        std::memcpy(&size, p + 8 * d, 8);
        std::memcpy(&stride, p + 8 * (ndim + d), 8);
        if (size < 0 || stride < 0) return Error("pytorch.view", "a negative size or stride").At(tbase + pos);
        tensor.shape.push_back(size);
        tensor.strides.push_back(stride);
      }
      int64_t offset;
      std::memcpy(&offset, p + 16 * ndim, 8);
      if (offset < 0) return Error("pytorch.view", "a negative storage offset").At(tbase + pos);
      tensor.storage_offset = offset;
      tar_tensors_[rec.node(t.items[0]).int_value] = {std::move(tensor), tbase + pos};
      pos += 8 + 16ull * ndim + 8;
    }
    // the object
    PickleLimits limits;
    limits.max_opcodes = options_.max_pickle_opcodes;
    PickleProgram program = DecodePickle(object->data, object->data_offset, limits);
    if (!program.complete()) {
      return Annotate(WithCode(program.status, absl::StatusCode::kInvalidArgument), "the object pickle: ");
    }
    CKPT_RETURN_IF_ERROR(InterpretObject(program));
    return FinishTensors();
  }

  absl::Status NextPickle(absl::Span<const uint8_t> b, uint64_t base, uint64_t* pos, std::string_view what,
                          PickleProgram* out) {
    PickleLimits limits;
    limits.max_opcodes = options_.max_pickle_opcodes;
    *out = DecodePickle(b.subspan(*pos), base + *pos, limits);
    if (!out->complete()) {
      return Annotate(WithCode(out->status, absl::StatusCode::kInvalidArgument), StrCat("the ", what, " pickle: "));
    }
    CKPT_RETURN_IF_ERROR(CheckWeightsOnly(*out));
    *pos = out->end - base;
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> CountOf(const PickleProgram& p, uint64_t limit) {
    const PickleNode& c = p.node(p.root);
    if (c.kind != PickleKind::kInt || c.int_value < 0 || static_cast<uint64_t>(c.int_value) > limit) {
      return Error("pytorch.container", "a record count is not a plausible non-negative int").At(c.offset);
    }
    return static_cast<uint64_t>(c.int_value);
  }

  // ---- the object pickle -----------------------------------------------------
  absl::Status DecodeObject(absl::Span<const uint8_t> bytes, uint64_t base) {
    PickleLimits limits;
    limits.max_opcodes = options_.max_pickle_opcodes;
    PickleProgram program = DecodePickle(bytes, base, limits);
    if (!program.complete()) {
      return Annotate(WithCode(program.status, absl::StatusCode::kInvalidArgument), "data.pkl: ");
    }
    return InterpretObject(program);
  }

  absl::Status InterpretObject(const PickleProgram& program) {
    CKPT_RETURN_IF_ERROR(CheckWeightsOnly(program));
    p_ = &program;
    CKPT_RETURN_IF_ERROR(Walk(program.root, "", 0));
    p_ = nullptr;
    return absl::OkStatus();
  }

  // What torch.load(weights_only=True) refuses, we refuse: globals off the
  // allowlist, extension codes, calls on anything but an allowlisted global,
  // items added to objects other than OrderedDict/Counter.
  absl::Status CheckWeightsOnly(const PickleProgram& p) {
    for (const PickleImport& imp : p.imports) {
      if (imp.opcode == 0x82 || imp.opcode == 0x83 || imp.opcode == 0x84) {
        return Error("pytorch.global", StrCat(PickleOpcodeName(imp.opcode), " imports by extension code, which "
                                              "weights-only loading refuses"))
            .At(imp.offset);
      }
      std::string c = CanonicalGlobal(imp.module, imp.name);
      if (!IsWeightsOnlyGlobal(c)) {
        return Error("pytorch.global", StrCat(PickleOpcodeName(imp.opcode), " names '", EscapeForDisplay(c),
                                              "', which weights-only loading refuses (ckpt never imports it)"))
            .At(imp.offset);
      }
    }
    for (const PickleCall& call : p.calls) {
      const uint8_t op = call.opcode;
      if (op == 'R' || op == 0x81 || op == 0x92 || op == 'o' || op == 'i') {
        if (call.callable == kNoNode || p.node(call.callable).kind != PickleKind::kGlobal) {
          return Error("pytorch.structure", StrCat(PickleOpcodeName(op), " calls something that is not an "
                                                   "allowlisted global"))
              .At(call.offset);
        }
      } else if (op == 'b') {
        // torch.save writes BUILD only to set an OrderedDict's _metadata; a
        // BUILD on a tensor makes torch call set_() and load other weights.
        const PickleNode& t = p.node(call.callable);
        if (!(t.kind == PickleKind::kObject && !t.items.empty() &&
              p.IsGlobal(t.items[0], "collections", "OrderedDict"))) {
          return Error("pytorch.structure", StrCat("BUILD sets state on a value of kind '", PickleKindName(t.kind),
                                                   "' (torch.save only builds OrderedDicts; on a tensor torch "
                                                   "would load other weights)"))
              .At(call.offset);
        }
      } else if (op == 's' || op == 'u' || op == 'a' || op == 'e' || op == 0x90) {
        const PickleNode& t = p.node(call.callable);
        const bool dict_like = t.kind == PickleKind::kObject && !t.items.empty() &&
                               (p.IsGlobal(t.items[0], "collections", "OrderedDict") ||
                                p.IsGlobal(t.items[0], "collections", "Counter"));
        if (!dict_like || op == 'a' || op == 'e' || op == 0x90) {
          return Error("pytorch.structure", StrCat(PickleOpcodeName(op), " adds items to a ",
                                                   PickleKindName(t.kind), " that is not an OrderedDict"))
              .At(call.offset);
        }
      }
    }
    return absl::OkStatus();
  }

  // ---- graph walk -------------------------------------------------------------
  const PickleNode& N(uint32_t i) const { return p_->node(i); }

  absl::Status TooDeep(uint64_t offset) const {
    return Error("pytorch.structure", StrCat("the saved object nests deeper than ", options_.max_depth, " levels"))
        .At(offset);
  }

  // The callable's canonical name when `n` is a call of a global.
  std::string CalleeOf(const PickleNode& n) const {
    if (n.kind != PickleKind::kObject || n.items.empty()) return {};
    const PickleNode& c = N(n.items[0]);
    if (c.kind != PickleKind::kGlobal) return {};
    return CanonicalGlobal(c.text, c.name);
  }

  // The positional arguments of a call node.
  absl::StatusOr<absl::Span<const uint32_t>> ArgsOf(const PickleNode& n) const {
    if (n.items.size() < 2 || N(n.items[1]).kind != PickleKind::kTuple) {
      return Error("pytorch.structure", "a call whose arguments are not a tuple").At(n.offset);
    }
    return absl::MakeConstSpan(N(n.items[1]).items);
  }

  absl::Status Walk(uint32_t id, const std::string& path, int depth) {
    if (depth > options_.max_depth) return TooDeep(N(id).offset);
    const PickleNode& n = N(id);
    switch (n.kind) {
      case PickleKind::kDict:
        return WalkDict(n.items, path, depth);
      case PickleKind::kList:
      case PickleKind::kTuple:
        for (size_t i = 0; i < n.items.size(); ++i) {
          CKPT_RETURN_IF_ERROR(Walk(n.items[i], JoinPath(path, StrCat(i)), depth + 1));
        }
        return absl::OkStatus();
      case PickleKind::kObject:
        return WalkObject(id, path, depth);
      case PickleKind::kPersistentId:
        return TarTensor(n, path);
      default:
        SetLeaf(n, path);
        return absl::OkStatus();
    }
  }

  absl::Status WalkDict(const std::vector<uint32_t>& items, const std::string& path, int depth) {
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
      const PickleNode& k = N(items[i]);
      std::string key;
      if (k.kind == PickleKind::kString) {
        key = std::string(k.text);
      } else if (k.kind == PickleKind::kInt || k.kind == PickleKind::kBool) {
        key = StrCat(k.int_value);
      } else {
        return Error("pytorch.structure", StrCat("a dict key is a ", PickleKindName(k.kind),
                                                 ", not a str or int"))
            .At(k.offset);
      }
      CKPT_RETURN_IF_ERROR(Walk(items[i + 1], JoinPath(path, key), depth + 1));
    }
    return absl::OkStatus();
  }

  absl::Status WalkObject(uint32_t id, const std::string& path, int depth) {
    const PickleNode& n = N(id);
    const std::string callee = CalleeOf(n);
    if (callee == "collections.OrderedDict" || callee == "collections.Counter") {
      const PickleObjectExtras* ex = p_->ExtrasOf(id);
      if (ex) CKPT_RETURN_IF_ERROR(WalkDict(ex->dict_items, path, depth));
      return absl::OkStatus();
    }
    if (callee == "torch._utils._rebuild_tensor_v2" || callee == "torch._utils._rebuild_tensor" ||
        callee == "torch._utils._rebuild_tensor_v3") {
      return Tensor(n, callee, path, /*parameter=*/false);
    }
    if (callee == "torch._utils._rebuild_parameter" || callee == "torch._utils._rebuild_parameter_with_state") {
      CKPT_ASSIGN_OR_RETURN(absl::Span<const uint32_t> args, ArgsOf(n));
      if (args.empty()) return Error("pytorch.structure", "_rebuild_parameter without a tensor").At(n.offset);
      const PickleNode& t = N(args[0]);
      const std::string inner = CalleeOf(t);
      if (inner != "torch._utils._rebuild_tensor_v2" && inner != "torch._utils._rebuild_tensor_v3" &&
          inner != "torch._utils._rebuild_tensor") {
        return Error("pytorch.tensor.unsupported", StrCat("a Parameter wrapping '", inner.empty() ? "a value" : inner,
                                                          "'"))
            .At(t.offset).Tensor(path);
      }
      return Tensor(t, inner, path, /*parameter=*/true);
    }
    if (callee == "torch._tensor._rebuild_from_type_v2") {
      // (func, new_type, args, state): a tensor subclass rebuilt by func(*args).
      CKPT_ASSIGN_OR_RETURN(absl::Span<const uint32_t> args, ArgsOf(n));
      if (args.size() < 3 || N(args[0]).kind != PickleKind::kGlobal || N(args[2]).kind != PickleKind::kTuple) {
        return Error("pytorch.structure", "_rebuild_from_type_v2 with unexpected arguments").At(n.offset);
      }
      const PickleNode& fn = N(args[0]);
      std::string inner = CanonicalGlobal(fn.text, fn.name);
      if (inner != "torch._utils._rebuild_tensor_v2" && inner != "torch._utils._rebuild_tensor_v3") {
        return Error("pytorch.tensor.unsupported", StrCat("a tensor subclass rebuilt by '", inner, "'"))
            .At(n.offset).Tensor(path);
      }
      return TensorFromArgs(N(args[2]).items, inner, path, n.offset, false);
    }
    if (absl::StartsWith(callee, "torch._utils._rebuild_")) {
      return Error("pytorch.tensor.unsupported", StrCat("'", callee, "' (sparse, quantized, nested, meta or device "
                                                        "tensors are not read)"))
          .At(n.offset).Tensor(path);
    }
    if (callee == "_codecs.encode") {
      CKPT_ASSIGN_OR_RETURN(absl::Span<const uint32_t> args, ArgsOf(n));
      if (!args.empty() && N(args[0]).kind == PickleKind::kString) {
        Set(path, StrCat("<bytes: ", N(args[0]).text.size(), " characters>"));
      }
      return absl::OkStatus();
    }
    if (callee.empty()) {
      return Error("pytorch.structure", "a call of something that is not a global").At(n.offset);
    }
    // Other allowlisted values (torch.device, torch.Size, set, complex,
    // bytearray, dtypes...): described, not interpreted.
    Set(path, StrCat("<", callee, ">"));
    return absl::OkStatus();
  }

  // Legacy tar: the object refers to tensors by str(key).
  absl::Status TarTensor(const PickleNode& n, const std::string& path) {
    std::string_view text = n.text;
    if (!n.items.empty() && N(n.items[0]).kind == PickleKind::kString) text = N(n.items[0]).text;
    int64_t key = 0;
    if (f_.container_ != "tar" || text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Error("pytorch.structure", "a storage outside a tensor").At(n.offset).Tensor(path);
    }
    for (char c : text) key = key * 10 + (c - '0');
    auto it = tar_tensors_.find(key);
    if (it == tar_tensors_.end()) {
      return Error("pytorch.storage", StrCat("the object refers to tensor ", key, ", which has no record"))
          .At(n.offset).Tensor(path);
    }
    PendingTensor pt = it->second;
    pt.tensor.name = path;
    pending_.push_back(std::move(pt));
    return absl::OkStatus();
  }

  void SetLeaf(const PickleNode& n, const std::string& path) {
    switch (n.kind) {
      case PickleKind::kNone: Set(path, nullptr); break;
      case PickleKind::kBool: Set(path, n.int_value != 0); break;
      case PickleKind::kInt: Set(path, n.int_value); break;
      case PickleKind::kFloat:
        if (std::isfinite(n.float_value)) {
          Set(path, n.float_value);
        } else {
          Set(path, StrCat(n.float_value));
        }
        break;
      case PickleKind::kString:
        Set(path, IsValidUtf8(n.text) ? std::string(n.text) : EscapeForDisplay(n.text));
        break;
      case PickleKind::kGlobal: Set(path, StrCat("<", CanonicalGlobal(n.text, n.name), ">")); break;
      default: Set(path, StrCat("<", PickleKindName(n.kind), ">")); break;
    }
  }
  template <typename T>
  void Set(const std::string& path, T&& v) {
    if (f_.metadata_.size() < 100000) f_.metadata_[path] = std::forward<T>(v);
  }

  absl::Status Tensor(const PickleNode& call, const std::string& callee, const std::string& path, bool parameter) {
    CKPT_ASSIGN_OR_RETURN(absl::Span<const uint32_t> args, ArgsOf(call));
    return TensorFromArgs(args, callee, path, call.offset, parameter);
  }

  absl::StatusOr<uint64_t> NonNegativeInt(uint32_t id, std::string_view what, const std::string& path) const {
    const PickleNode& v = N(id);
    if (v.kind != PickleKind::kInt || v.int_value < 0) {
      return Error("pytorch.view", StrCat(what, " is not a non-negative integer")).At(v.offset).Tensor(path);
    }
    return static_cast<uint64_t>(v.int_value);
  }

  absl::StatusOr<std::vector<uint64_t>> IntTuple(uint32_t id, std::string_view what, const std::string& path) const {
    const PickleNode* n = &N(id);
    // torch.Size((...)) is a call wrapping the tuple.
    if (n->kind == PickleKind::kObject && CalleeOf(*n) == "torch.Size") {
      CKPT_ASSIGN_OR_RETURN(absl::Span<const uint32_t> a, ArgsOf(*n));
      if (a.size() != 1) return Error("pytorch.view", StrCat(what, ": torch.Size takes one tuple")).At(n->offset);
      n = &N(a[0]);
    }
    if (n->kind != PickleKind::kTuple && n->kind != PickleKind::kList) {
      return Error("pytorch.view", StrCat(what, " is not a tuple")).At(n->offset).Tensor(path);
    }
    if (n->items.size() > 64) {
      return Error("pytorch.view", StrCat(what, " has ", n->items.size(), " dimensions (at most 64)"))
          .At(n->offset).Tensor(path);
    }
    std::vector<uint64_t> out;
    for (uint32_t i : n->items) {
      CKPT_ASSIGN_OR_RETURN(uint64_t v, NonNegativeInt(i, what, path));
      out.push_back(v);
    }
    return out;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
  //                    backward_hooks[, metadata])
  // _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad,
  //                    backward_hooks, dtype[, metadata])
  // _rebuild_tensor(storage, storage_offset, size, stride)
  absl::Status TensorFromArgs(absl::Span<const uint32_t> args, const std::string& callee, const std::string& path,
                              uint64_t offset, bool parameter) {
    const bool v3 = callee == "torch._utils._rebuild_tensor_v3";
    if (args.size() < (v3 ? 7u : 4u)) {
      return Error("pytorch.structure", StrCat(callee, " with ", args.size(), " arguments")).At(offset).Tensor(path);
    }
    const PickleNode& pid = N(args[0]);
    if (pid.kind != PickleKind::kPersistentId || pid.items.empty()) {
      return Error("pytorch.structure", "the tensor's storage is not a persistent id").At(pid.offset).Tensor(path);
    }
    // ('storage', storage_type, key, location, numel[, view_metadata])
    const PickleNode& t = N(pid.items[0]);
    if (t.kind != PickleKind::kTuple || t.items.size() < 5 || N(t.items[0]).kind != PickleKind::kString ||
        N(t.items[0]).text != "storage") {
      return Error("pytorch.storage", "the persistent id is not ('storage', type, key, location, numel)")
          .At(t.offset).Tensor(path);
    }
    const PickleNode& type = N(t.items[1]);
    const PickleNode& key = N(t.items[2]);
    if (type.kind != PickleKind::kGlobal || key.kind != PickleKind::kString) {
      return Error("pytorch.storage", "the storage type is not a global or its key not a str")
          .At(t.offset).Tensor(path);
    }
    std::string_view cls = type.name;
    if (size_t dot = cls.rfind('.'); dot != std::string_view::npos) cls = cls.substr(dot + 1);
    std::optional<TorchDType> storage_type = TorchStorageByClass(cls);
    if (!storage_type) {
      return Error("pytorch.storage", StrCat("unknown storage type '", CanonicalGlobal(type.text, type.name), "'"))
          .At(type.offset).Tensor(path);
    }
    CKPT_ASSIGN_OR_RETURN(uint64_t numel, NonNegativeInt(t.items[4], "the storage size", path));

    TorchDType tensor_type = *storage_type;
    if (v3) {
      const PickleNode& d = N(args[6]);
      std::optional<TorchDType> dt;
      if (d.kind == PickleKind::kGlobal && d.text == "torch") dt = TorchDTypeByName(d.name);
      if (!dt) return Error("pytorch.structure", "_rebuild_tensor_v3's dtype is not a torch dtype").At(d.offset);
      tensor_type = *dt;
    }
    if (!tensor_type.dtype) {
      return Error("pytorch.dtype.unsupported", StrCat("dtype torch.", tensor_type.name, " has no ckpt type"))
          .At(offset).Tensor(path).Code(absl::StatusCode::kUnimplemented);
    }
    if (!storage_type->dtype) {
      return Error("pytorch.dtype.unsupported", StrCat("storage of torch.", storage_type->name, " has no ckpt type"))
          .At(offset).Tensor(path).Code(absl::StatusCode::kUnimplemented);
    }

    TorchTensor tensor;
    tensor.name = path;
    tensor.dtype = *tensor_type.dtype;
    tensor.parameter = parameter;
    CKPT_ASSIGN_OR_RETURN(tensor.storage_offset, NonNegativeInt(args[1], "the storage offset", path));
    CKPT_ASSIGN_OR_RETURN(tensor.shape, IntTuple(args[2], "the size", path));
    CKPT_ASSIGN_OR_RETURN(tensor.strides, IntTuple(args[3], "the stride", path));
    if (tensor.shape.size() != tensor.strides.size()) {
      return Error("pytorch.view", StrCat("size has ", tensor.shape.size(), " dimensions but stride has ",
                                          tensor.strides.size()))
          .At(offset).Tensor(path);
    }
    // A legacy view: ('storage', type, root_key, location, numel,
    // (view_key, view_offset, view_size)) points into the root storage.
    // Legacy storage views (torch < 1.0: a 6th element (view_key, offset,
    // size)) depend on torch's first-seen storage cache; refused rather than
    // guessed. Zip checkpoints have exactly five elements.
    if (t.items.size() > 6 || (t.items.size() == 6 && (f_.container_ != "legacy" ||
                                                        N(t.items[5]).kind != PickleKind::kNone))) {
      return Error("pytorch.storage", "a storage view persistent id (torch < 1.0 storage views are not read)")
          .At(t.offset).Tensor(path).Code(absl::StatusCode::kUnimplemented);
    }

    CKPT_RETURN_IF_ERROR(AddRef(std::string(key.text), *storage_type, numel, key.offset, path));
    tensor.storage = ref_of_key_[std::string(key.text)];
    // The tensor's storage_offset counts elements of the tensor's dtype; for
    // v3 the storage is untyped (bytes).
    pending_.push_back({std::move(tensor), offset});
    return absl::OkStatus();
  }

  absl::Status AddRef(std::string key, const TorchDType& type, uint64_t numel, uint64_t offset,
                      const std::string& path) {
    auto it = ref_of_key_.find(key);
    if (it != ref_of_key_.end()) {
      const StorageRef& r = refs_[it->second];
      if (r.type.name != type.name || r.numel != numel) {
        return Error("pytorch.storage", StrCat("storage '", EscapeForDisplay(key), "' is named with type torch.",
                                               type.name, " and ", numel, " elements, but earlier with torch.",
                                               r.type.name, " and ", r.numel))
            .At(offset).Tensor(path);
      }
      return absl::OkStatus();
    }
    ref_of_key_[key] = static_cast<uint32_t>(refs_.size());
    refs_.push_back({std::move(key), type, numel, offset});
    return absl::OkStatus();
  }

  absl::Status CheckStorageSize(const StorageRef& ref, uint64_t nbytes, uint64_t at) const {
    std::optional<uint64_t> need = CheckedMul(ref.numel, ref.type.elsize);
    if (!need || *need > nbytes) {
      return Error("pytorch.storage", StrCat("storage '", EscapeForDisplay(ref.key), "' declares ", ref.numel,
                                             " elements of torch.", ref.type.name, " but holds ", nbytes, " bytes"))
          .At(at);
    }
    return absl::OkStatus();
  }

  // Checks every view against its placed storage and fills tensors().
  absl::Status FinishTensors() {
    absl::flat_hash_map<std::string, size_t> names;
    for (PendingTensor& pt : pending_) {
      TorchTensor& t = pt.tensor;
      // refs_ index → storages_ index.
      const StorageRef& ref = refs_[t.storage];
      t.storage = storage_index_[ref.key];
      const TorchStorage& s = f_.storages_[t.storage];
      const uint32_t elsize = GetDTypeInfo(t.dtype).block_bytes;
      // Extent in elements: offset + sum((size-1)*stride) + 1, unless empty.
      std::optional<uint64_t> count = ElementCount(t.shape);
      if (!count) return Error("pytorch.view", "element count overflows").At(pt.offset).Tensor(t.name);
      if (*count > 0) {
        std::optional<uint64_t> last = t.storage_offset;
        for (size_t d = 0; d < t.shape.size() && last; ++d) {
          std::optional<uint64_t> step = CheckedMul(t.shape[d] - 1, t.strides[d]);
          last = step ? CheckedAdd(*last, *step) : std::nullopt;
        }
        std::optional<uint64_t> end = last ? CheckedAdd(*last, 1) : std::nullopt;
        std::optional<uint64_t> end_bytes = end ? CheckedMul(*end, elsize) : std::nullopt;
        if (!end_bytes || *end_bytes > s.nbytes) {
          return Error("pytorch.view", StrCat("the view (offset ", t.storage_offset, ", size ", ShapeText(t.shape),
                                              ", stride ", ShapeText(t.strides), ") reaches past storage '",
                                              EscapeForDisplay(s.key), "' (", s.nbytes, " bytes)"))
              .At(pt.offset).Tensor(t.name);
        }
      }
      // Row-major contiguous (dims of size 1 may have any stride).
      uint64_t expect = 1;
      t.contiguous = true;
      for (size_t d = t.shape.size(); d-- > 0;) {
        if (t.shape[d] != 1 && t.strides[d] != expect) t.contiguous = false;
        expect *= t.shape[d];
      }
      if (*count == 0) t.contiguous = true;
      auto [it, inserted] = names.emplace(t.name, f_.tensors_.size());
      if (!inserted) {
        return Error("pytorch.name.duplicate", "two tensors have this name").At(pt.offset).Tensor(t.name);
      }
      f_.tensors_.push_back(std::move(t));
    }
    return absl::OkStatus();
  }

  static std::string ShapeText(const std::vector<uint64_t>& v) {
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i) StrAppend(&s, i ? ", " : "", v[i]);
    return s + ")";
  }

  PyTorchFile& f_;
  const PyTorchOptions& options_;
  const PickleProgram* p_ = nullptr;
  std::vector<StorageRef> refs_;
  absl::flat_hash_map<std::string, uint32_t> ref_of_key_;
  absl::flat_hash_map<std::string, uint32_t> storage_index_;
  std::vector<PendingTensor> pending_;
  absl::flat_hash_map<int64_t, PendingTensor> tar_tensors_;
};

PyTorchFile::PyTorchFile() = default;
PyTorchFile::~PyTorchFile() = default;
PyTorchFile::PyTorchFile(PyTorchFile&&) noexcept = default;
PyTorchFile& PyTorchFile::operator=(PyTorchFile&&) noexcept = default;

absl::Status PyTorchFile::VerifyData() const {
  if (!zip_) return absl::OkStatus();
  for (size_t i = 0; i < zip_->entries().size(); ++i) {
    CKPT_RETURN_IF_ERROR(WithFile(zip_->VerifyCrc(static_cast<int>(i)), path_));
  }
  return absl::OkStatus();
}

absl::StatusOr<PyTorchFile> PyTorchFile::Open(MappedFile file, const PyTorchOptions& options) {
  PyTorchFile f;
  f.bytes_ = file.bytes();
  f.path_ = file.path();
  f.file_ = std::move(file);
  absl::Status s = PyTorchLoader(&f, options).Load();
  if (!s.ok()) return WithFile(s, f.path_);
  return f;
}

absl::StatusOr<PyTorchFile> PyTorchFile::Parse(absl::Span<const uint8_t> bytes, const PyTorchOptions& options) {
  PyTorchFile f;
  f.bytes_ = bytes;
  absl::Status s = PyTorchLoader(&f, options).Load();
  if (!s.ok()) return s;
  return f;
}

bool PyTorchFile::IsZeroCopy(size_t i) const {
  const TorchTensor& t = tensors_[i];
  if (!t.contiguous) return false;
  if (big_endian_ && GetDTypeInfo(t.dtype).block_bytes > 1) return false;
  return true;
}

uint64_t PyTorchFile::TensorOffset(size_t i) const {
  const TorchTensor& t = tensors_[i];
  const TorchStorage& s = storages_[t.storage];
  return s.offset + t.storage_offset * GetDTypeInfo(t.dtype).block_bytes;
}

absl::Span<const uint8_t> PyTorchFile::TensorBytes(size_t i, std::vector<uint8_t>* scratch) const {
  const TorchTensor& t = tensors_[i];
  const TorchStorage& s = storages_[t.storage];
  const uint32_t elsize = GetDTypeInfo(t.dtype).block_bytes;
  const uint64_t count = ElementCount(t.shape).value_or(0);
  const uint64_t nbytes = count * elsize;
  if (count == 0) return {};
  if (IsZeroCopy(i)) return s.data.subspan(t.storage_offset * elsize, nbytes);
  scratch->resize(nbytes);
  const uint32_t swap = !big_endian_ || elsize == 1 ? 0 : t.dtype == DType::kC64 ? 4 : elsize;
  GatherStrided(s.data.data(), t.storage_offset, t.shape, t.strides, elsize, swap, scratch->data());
  return *scratch;
}

bool LooksLikePyTorch(absl::Span<const uint8_t> head) {
  if (LooksLikeZip(head)) return true;
  if (head.size() >= sizeof(kLegacyMagic) && std::memcmp(head.data(), kLegacyMagic, sizeof(kLegacyMagic)) == 0) {
    return true;
  }
  return LooksLikeTar(head);
}

}  // namespace ckpt
