// Fuzz target: PyTorchFile::Parse (zip, legacy stacked and legacy tar
// checkpoints; the pickle decoder and weights-only interpretation behind it).
// Properties: never crashes; every accepted tensor's storage lies inside the
// input, its bytes have exactly num_elements × element size, and gathering
// (strided / big-endian) stays inside the storage.
#include <cstdint>
#include <vector>

#include "ckpt/checked_math.h"
#include "ckpt/pytorch.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> in(data, size);
  ckpt::PyTorchOptions options;
  options.max_pickle_opcodes = 1 << 20;
  absl::StatusOr<ckpt::PyTorchFile> f = ckpt::PyTorchFile::Parse(in, options);
  if (!f.ok()) return 0;
  for (const ckpt::TorchStorage& s : f->storages()) {
    // Storages are views of the input (stored zip entries, legacy data) or
    // inflated copies; views must lie inside the input.
    if (s.data.data() >= data && s.data.data() < data + size) {
      CHECK(s.data.data() + s.data.size() <= data + size, "s.data.data() + s.data.size() <= data + size");
    }
    CHECK(s.data.size() == s.nbytes, "s.data.size() == s.nbytes");
  }
  std::vector<uint8_t> scratch;
  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const ckpt::TorchTensor& t = f->tensors()[i];
    CHECK(t.storage < f->storages().size(), "t.storage < f->storages().size()");
    CHECK(t.shape.size() == t.strides.size(), "t.shape.size() == t.strides.size()");
    const std::optional<uint64_t> n = ckpt::ElementCount(t.shape);
    CHECK(n.has_value(), "n.has_value()");
    // Huge strided views of tiny storages are legal (stride 0); gather only
    // when the output stays small.
    const uint64_t nbytes = *n * ckpt::GetDTypeInfo(t.dtype).block_bytes;
    if (nbytes > (64u << 20)) continue;
    absl::Span<const uint8_t> b = f->TensorBytes(i, &scratch);
    CHECK(b.size() == nbytes, "b.size() == nbytes");
  }
  return 0;
}
