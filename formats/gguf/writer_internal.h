// formats/gguf/writer_internal.h — writing without committing (internal).
#ifndef CKPT_FORMATS_GGUF_WRITER_INTERNAL_H_
#define CKPT_FORMATS_GGUF_WRITER_INTERNAL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ckpt/atomic_file.h"
#include "ckpt/gguf.h"

namespace ckpt::gguf_internal {

// Everything WriteGguf does except the final Commit(), so writers of several
// files (splits) can make them all appear together. The file is flushed and
// its buffer freed.
absl::StatusOr<std::unique_ptr<AtomicOutputFile>> WriteUncommitted(const std::string& path,
                                                                   absl::Span<const GgufKvToWrite> kvs,
                                                                   absl::Span<const GgufTensorToWrite> tensors,
                                                                   GgufWriteOptions options,
                                                                   const GgufProgressFn& progress);

}  // namespace ckpt::gguf_internal

#endif  // CKPT_FORMATS_GGUF_WRITER_INTERNAL_H_
