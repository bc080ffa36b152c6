// lib/pickle_policy.h — what a pickle may name: torch's weights-only
// allowlist, torch's dtype and storage names, and the scanner's
// classification of globals (internal; shared by formats/pytorch and the
// scanner so that "what ckpt loads" and "what ckpt calls safe" are one list).
#ifndef CKPT_LIB_PICKLE_POLICY_H_
#define CKPT_LIB_PICKLE_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ckpt/dtype.h"

namespace ckpt {

// A torch dtype by its attribute name ("float32", "bfloat16", "float8_e4m3fn").
// `dtype` is empty for dtypes ckpt has no type for (complex128, qint8, bits8,
// ...); elsize is still known.
struct TorchDType {
  std::string_view name;
  std::optional<DType> dtype;
  uint32_t elsize = 0;
};
std::optional<TorchDType> TorchDTypeByName(std::string_view name);

// A legacy storage class ("FloatStorage", "UntypedStorage") as the torch dtype
// its elements have (UntypedStorage: uint8 bytes).
std::optional<TorchDType> TorchStorageByClass(std::string_view class_name);

// The name CPython resolves `module`, `name` to: Python-2 module names
// remapped (__builtin__ → builtins, copy_reg → copyreg, ...) and joined with
// '.' (a dotted `name` is an attribute path with protocol >= 4).
std::string CanonicalGlobal(std::string_view module, std::string_view name);

// True when torch.load(weights_only=True) accepts the global (its
// _get_allowed_globals, recent 2.x). `canonical` as from CanonicalGlobal.
bool IsWeightsOnlyGlobal(std::string_view canonical);

enum class GlobalClass {
  kAllowed,    // weights-only set, plus numpy array reconstruction,
               // argparse.Namespace and harmless builtins (int, list, ...)
  kDangerous,  // runs code, touches files/network/processes, imports, or is a
               // known gadget (union of picklescan, modelscan and fickling
               // denylists, matched on every dotted prefix and component)
  kUnknown,    // anything else: unsafe, since denylists are always behind
};

struct GlobalVerdict {
  GlobalClass cls = GlobalClass::kUnknown;
  std::string canonical;
  std::string reason;  // for kDangerous: which entry matched
};

GlobalVerdict ClassifyGlobal(std::string_view module, std::string_view name);

}  // namespace ckpt

#endif  // CKPT_LIB_PICKLE_POLICY_H_
