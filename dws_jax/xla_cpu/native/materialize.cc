// Copyright 2026 The dws_jax Authors.
// SPDX-License-Identifier: Apache-2.0
//
// An identity that XLA cannot see through: copies every argument to its
// result. XLA:CPU fuses a cheap elementwise producer (e.g. a sum of many
// broadcast terms) into each of its consumers and recomputes it there, in
// the backward pass as many times as there are consumers; a custom call is
// opaque, so its result is computed once and read by every consumer.

#include <cstring>

#include "simd.h"
#include "xla/ffi/api/ffi.h"

namespace {

using namespace dws_jax_native;  // NOLINT(build/namespaces)

ffi::Error MaterializeImpl(ffi::ThreadPool pool, ffi::RemainingArgs args,
                           ffi::RemainingRets rets) {
  if (args.size() != rets.size()) {
    return ffi::Error::InvalidArgument(
        "materialize: expected one result per argument");
  }
  for (size_t i = 0; i < args.size(); ++i) {
    auto in = args.get<ffi::AnyBuffer>(i);
    if (!in.has_value()) return in.error();
    auto out = rets.get<ffi::AnyBuffer>(i);
    if (!out.has_value()) return out.error();
    const size_t bytes = in->size_bytes();
    if ((*out)->size_bytes() != bytes) {
      return ffi::Error::InvalidArgument(
          "materialize: a result differs in size from its argument");
    }
    const char* src = static_cast<const char*>(in->untyped_data());
    char* dst = static_cast<char*>((*out)->untyped_data());
    constexpr int64_t kChunk = 1 << 18;
    const int64_t chunks = (static_cast<int64_t>(bytes) + kChunk - 1) / kChunk;
    ParallelFor(pool, chunks, 1, [&](int64_t begin, int64_t end) {
      const size_t lo = begin * kChunk;
      const size_t hi = std::min<size_t>(end * kChunk, bytes);
      std::memcpy(dst + lo, src + lo, hi - lo);
    });
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(DwsMaterialize, MaterializeImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .RemainingArgs()
                                  .RemainingRets());
