// Slab-by-slab tensor streaming: rows are converted or quantized on all
// threads into one of two bounded buffers while the other is written.
#include "lib/tensor_stream.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>

#include "absl/strings/str_format.h"
#include "ckpt/dtype_convert.h"
#include "ckpt/quant.h"
#include "ckpt/status.h"

namespace ckpt {
namespace {

// Output bytes produced per slab: bounds memory whatever the tensor size.
constexpr uint64_t kSlabBytes = 32ull << 20;
// ggml's quantization chunk: whole rows, at least 16384 elements (32 × 512).
constexpr int64_t kMinChunkElems = 32 * 512;

// One task at a time on a second thread; Wait() returns its status.
class BackgroundTask {
 public:
  ~BackgroundTask() { (void)Wait(); }
  void Start(std::function<absl::Status()> fn) {
    thread_ = std::thread([this, fn = std::move(fn)] { status_ = fn(); });
  }
  absl::Status Wait() {
    if (thread_.joinable()) thread_.join();
    absl::Status s = status_;
    status_ = absl::OkStatus();
    return s;
  }

 private:
  std::thread thread_;
  absl::Status status_;
};

// The index of the first NaN or infinity among x[0, n), or -1. Checks a
// block at a time with a branch-free (vectorisable) test.
int64_t FirstNonFinite(const float* x, int64_t n) {
  constexpr int64_t kBlock = 256;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    uint32_t bad = 0;
    for (int64_t i = 0; i < m; ++i) {
      uint32_t u;
      std::memcpy(&u, x + b + i, 4);
      bad |= static_cast<uint32_t>((u & 0x7F800000u) == 0x7F800000u);
    }
    if (bad) {
      for (int64_t i = 0; i < m; ++i) {
        if (!std::isfinite(x[b + i])) return b + i;
      }
    }
  }
  return -1;
}

struct WorkItem {
  int64_t first_row;  // output row (experts are stacked)
  int64_t n_rows;
};

void LowerTo(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load();
  while (v < cur && !a.compare_exchange_weak(cur, v)) {}
}

bool IsBlockType(DType t) { return GetDTypeInfo(t).kind == DTypeKind::kQuantized; }

// Produces output rows [row0, row0 + n_rows) of `t` into `out` on all
// threads; errors name the first bad row.
absl::Status ProduceSlab(const StreamTensor& t, absl::Span<const uint8_t> src, int64_t row0, int64_t n_rows,
                         uint8_t* out, int threads) {
  const int64_t ne0 = t.row_elems;
  const uint64_t in_row = RowBytes(t.from, ne0), out_row = RowBytes(t.to, ne0);
  // Block types on either side (and checked conversions) go through f32 rows.
  const bool quantize = t.to != t.from && (IsBlockType(t.to) || IsBlockType(t.from) || t.refuse_non_finite);
  const bool check = IsBlockType(t.to) || t.refuse_non_finite;
  const int64_t ne1 = t.rows_per_matrix > 0 ? t.rows_per_matrix : std::max<int64_t>(t.n_rows, 1);
  // Quantized targets use ggml's chunking; conversions and copies take
  // bigger bites (a chunk is ~1 MiB of input).
  const int64_t chunk_elems = quantize ? kMinChunkElems : (1 << 18);
  const int64_t rows_per_chunk = std::max<int64_t>(1, (ne0 >= chunk_elems ? ne0 : chunk_elems) / std::max<int64_t>(ne0, 1));
  std::vector<WorkItem> items;
  for (int64_t r = row0; r < row0 + n_rows;) {
    const int64_t expert = r / ne1;
    const int64_t end = std::min({row0 + n_rows, (expert + 1) * ne1, r + rows_per_chunk});
    items.push_back({r, end - r});
    r = end;
  }
  // A row run [first, first + n) is contiguous in the input unless reordered.
  auto input_rows = [&](const WorkItem& w, std::vector<uint8_t>* gathered) -> const uint8_t* {
    if (t.row_order.empty()) return src.data() + w.first_row * in_row;
    gathered->resize(static_cast<size_t>(w.n_rows * in_row));
    for (int64_t i = 0; i < w.n_rows; ++i) {
      std::memcpy(gathered->data() + i * in_row, src.data() + t.row_order[w.first_row + i] * in_row, in_row);
    }
    return gathered->data();
  };
  std::atomic<size_t> next{0};
  std::atomic<int64_t> bad_row{INT64_MAX};
  std::atomic<int> bad_kind{0};  // 1 = non-finite input, 2 = non-finite scale, 3 = conversion error
  absl::Status convert_error;
  auto work = [&] {
    std::vector<float> f32;
    std::vector<uint8_t> gathered;
    for (size_t k; (k = next.fetch_add(1)) < items.size();) {
      const WorkItem& w = items[k];
      const uint8_t* in = input_rows(w, &gathered);
      uint8_t* dst = out + (w.first_row - row0) * out_row;
      if (t.from == t.to) {
        std::memcpy(dst, in, w.n_rows * in_row);
        continue;
      }
      if (!quantize) {
        absl::Status s = ConvertElements(t.from, absl::MakeConstSpan(in, w.n_rows * in_row), t.to,
                                         absl::MakeSpan(dst, w.n_rows * out_row), static_cast<uint64_t>(w.n_rows * ne0));
        if (!s.ok()) {
          LowerTo(bad_row, w.first_row);
          bad_kind = 3;
          convert_error = s;  // racy only between equally bad outcomes
        }
        continue;
      }
      const float* x;
      if (t.from == DType::kF32 && reinterpret_cast<uintptr_t>(in) % alignof(float) == 0) {
        x = reinterpret_cast<const float*>(in);
      } else {
        f32.resize(static_cast<size_t>(w.n_rows * ne0));
        DequantizeRow(t.from, in, f32.data(), w.n_rows * ne0);
        x = f32.data();
      }
      // llama.cpp's loader rejects NaN/Inf weights before quantizing.
      if (const int64_t i = check ? FirstNonFinite(x, w.n_rows * ne0) : -1; i >= 0) {
        LowerTo(bad_row, w.first_row + i / ne0);
        bad_kind = 1;
        continue;
      }
      const float* qw = t.imatrix ? t.imatrix->data() + (w.first_row / ne1) * ne0 : nullptr;
      QuantizeRows(t.to, x, dst, w.n_rows, ne0, qw);
      if (const std::optional<uint64_t> b =
              check ? FindInvalidBlock(t.to, absl::MakeConstSpan(dst, w.n_rows * out_row)) : std::nullopt) {
        LowerTo(bad_row, w.first_row + static_cast<int64_t>(*b * GetDTypeInfo(t.to).block_bytes / out_row));
        int expected = 0;
        bad_kind.compare_exchange_strong(expected, 2);
      }
    }
  };
  const int n_threads = static_cast<int>(std::min<size_t>(std::max(threads, 1), items.size()));
  std::vector<std::thread> pool;
  for (int i = 1; i < n_threads; ++i) pool.emplace_back(work);
  work();
  for (std::thread& th : pool) th.join();
  if (bad_row.load() == INT64_MAX) return absl::OkStatus();
  const int64_t row = bad_row.load();
  const int64_t in_index = t.row_order.empty() ? row : t.row_order[row];
  if (bad_kind == 3) return WithFile(convert_error, t.file);
  if (bad_kind == 1) {
    return Error("quantize.non_finite", absl::StrFormat("row %d holds NaN or infinity", in_index))
        .File(t.file)
        .Tensor(t.name)
        .At(t.file_offset + in_index * in_row);
  }
  return Error("quantize.scale_overflow",
               absl::StrFormat("row %d: a %s block scale is not finite (values too large for its f16 scale; "
                               "llama-quantize fails the same way)",
                               row, DTypeName(t.to)))
      .File(t.file)
      .Tensor(t.name);
}

}  // namespace

uint64_t RowBytes(DType t, uint64_t n) { return n / GetDTypeInfo(t).block_elems * GetDTypeInfo(t).block_bytes; }

int EffectiveThreads(int requested) {
  return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

absl::Status StreamTensors(AtomicOutputFile& file, absl::Span<const StreamTensor> tensors, uint64_t alignment,
                           int threads, const StreamProgressFn& progress) {
  threads = EffectiveThreads(threads);
  uint64_t total = 0;
  for (const StreamTensor& t : tensors) total += static_cast<uint64_t>(t.n_rows) * RowBytes(t.from, t.row_elems);
  std::vector<uint8_t> buffers[2];
  uint64_t slab = 0;
  BackgroundTask writer;
  uint64_t done = 0;
  static const uint8_t kZeros[4096] = {};
  std::vector<uint8_t> scratch;
  for (size_t k = 0; k < tensors.size(); ++k) {
    const StreamTensor& t = tensors[k];
    const uint64_t out_bytes = OutputBytes(t);
    const uint64_t in_row = RowBytes(t.from, t.row_elems);
    const uint64_t pad = (alignment - out_bytes % alignment) % alignment;
    auto write_padding = [&file, pad]() -> absl::Status {
      for (uint64_t left = pad; left > 0;) {
        const uint64_t m = std::min<uint64_t>(left, sizeof(kZeros));
        CKPT_RETURN_IF_ERROR(file.Write(absl::MakeConstSpan(kZeros, m)));
        left -= m;
      }
      return absl::OkStatus();
    };
    absl::Span<const uint8_t> src = t.source;
    if (t.gather) {
      CKPT_RETURN_IF_ERROR(writer.Wait());  // the previous slab may point into scratch
      CKPT_ASSIGN_OR_RETURN(src, t.gather(&scratch));
    }
    if (src.size() < static_cast<uint64_t>(t.n_rows) * in_row) {
      return Error("stream.source_size", absl::StrFormat("%d bytes of input for %d rows of %d %s elements", src.size(),
                                                         t.n_rows, t.row_elems, DTypeName(t.from)))
          .Code(absl::StatusCode::kInternal)
          .File(t.file)
          .Tensor(t.name);
    }
    if (t.from == t.to && t.row_order.empty()) {
      // Plain copy: by the kernel from the file, or straight from the mapping.
      CKPT_RETURN_IF_ERROR(writer.Wait());
      if (t.source_in_file && !t.gather && out_bytes >= (1u << 20)) {
        CKPT_RETURN_IF_ERROR(file.CopyFromFile(t.file, t.file_offset, out_bytes));
      } else {
        CKPT_RETURN_IF_ERROR(file.Write(src.first(out_bytes)));
      }
      CKPT_RETURN_IF_ERROR(write_padding());
      done += out_bytes;
      if (progress) progress(k, done, total);
      continue;
    }
    const uint64_t out_row = RowBytes(t.to, t.row_elems);
    if (t.n_rows == 0 || out_row == 0) {
      CKPT_RETURN_IF_ERROR(writer.Wait());
      CKPT_RETURN_IF_ERROR(write_padding());
      continue;
    }
    const int64_t slab_rows = std::max<int64_t>(1, static_cast<int64_t>(kSlabBytes / out_row));
    for (int64_t r = 0; r < t.n_rows; r += slab_rows) {
      const int64_t m = std::min(slab_rows, t.n_rows - r);
      // Two buffers: this slab is produced while the previous one is
      // written (the copy into the page cache is a third of the work).
      std::vector<uint8_t>& buffer = buffers[slab++ % 2];
      buffer.resize(static_cast<size_t>(m * out_row));
      CKPT_RETURN_IF_ERROR(ProduceSlab(t, src, r, m, buffer.data(), threads));
      CKPT_RETURN_IF_ERROR(writer.Wait());
      const bool last = r + m >= t.n_rows;
      writer.Start([&file, &buffer, last, write_padding]() -> absl::Status {
        CKPT_RETURN_IF_ERROR(file.Write(absl::MakeConstSpan(buffer)));
        return last ? write_padding() : absl::OkStatus();
      });
      done += static_cast<uint64_t>(m) * in_row;
      if (progress) progress(k, done, total);
    }
  }
  return writer.Wait();
}

}  // namespace ckpt
