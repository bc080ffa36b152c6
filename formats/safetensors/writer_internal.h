// formats/safetensors/writer_internal.h — writing without committing (internal).
#ifndef CKPT_FORMATS_SAFETENSORS_WRITER_INTERNAL_H_
#define CKPT_FORMATS_SAFETENSORS_WRITER_INTERNAL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/atomic_file.h"
#include "ckpt/safetensors.h"

namespace ckpt::safetensors_internal {

// Everything WriteSafetensors does except the final Commit(), so a caller
// writing several files (shards and their index) can make them all appear
// together at the end. The returned file is flushed and its buffer freed.
absl::StatusOr<std::unique_ptr<AtomicOutputFile>> WriteUncommitted(const std::string& path,
                                                                   std::vector<TensorToWrite> tensors,
                                                                   const SafetensorsMetadata& metadata,
                                                                   SafetensorsWriteOptions options,
                                                                   const ProgressFn& progress);

}  // namespace ckpt::safetensors_internal

#endif  // CKPT_FORMATS_SAFETENSORS_WRITER_INTERNAL_H_
